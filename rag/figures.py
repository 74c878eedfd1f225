"""Figures (counts, amounts, percentages, years, dates) in English or Chinese text, compared by value.

"about 3.43 million" and "343万" are the same figure; so are "15%" and "百分之十五", "June 2021" and
"2021年6月". Kinds, and how a figure's kind is decided:

- ``percent``: a number followed by %, ％, "percent", or written 百分之… . The value is the number (15.0).
- ``date``: a month with a year and/or a day ("June 2021", "2021年6月", "April 13", "4月13日").
  The value packs year*10000 + month*100 + day, 0 for a part not written.
- ``year``: a year alone: four digits 1000–2199 followed by 年 ("2013年", "二〇一三年"), or, with no 年,
  a bare four-digit integer 1900–2099 ("In 2007, …"). A four-digit integer is a count, not a year, when
  it is written with a separator or a decimal ("2,021"), takes a scale word, a %, a currency or 多/余,
  follows a qualifier ("more than 2000", "超2000"), or is followed by a Chinese counter ("2000人").
- ``number``: every other count or amount; scale words multiply ("3.43 million", "26万", "175亿元").

Qualifiers (about, more than, 超, 近, 余, 多) and counters (人, 家, 项, 元, yuan) never change the value;
a qualifier is part of a figure's text. Not figures: citation markers ("[1]"), ordinals ("first", "第一",
"100th"), a month or day alone ("June", "6月", "13日"), and the words "one" and "一" standing alone (an
article or a word part far more often than a count; `parse_figure` still reads them written alone).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

KINDS = ("number", "percent", "date", "year")
_KEY_PREFIX = {"number": "num", "percent": "pct", "date": "date", "year": "year"}

_EN_SCALE = {"thousand": 10**3, "million": 10**6, "mn": 10**6, "billion": 10**9, "bn": 10**9, "trillion": 10**12}
_ZH_SCALE = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
_EN_WORD = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_EN_WORD.update(
    {word: 10 * n for n, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
)
_MONTH = {
    name: number
    for number, names in enumerate(
        "January Jan|February Feb|March Mar|April Apr|May|June Jun|July Jul|August Aug|September Sept Sep|"
        "October Oct|November Nov|December Dec".split("|"),
        1,
    )
    for name in names.split()
}
_CURRENCY = {"元": "CNY", "yuan": "CNY", "rmb": "CNY", "¥": "CNY", "￥": "CNY"}
_CURRENCY.update({"美元": "USD", "$": "USD", "us$": "USD", "dollars": "USD", "us dollars": "USD"})

_ZH_DIGITS = "零〇一二两三四五六七八九"
_ZH_NUMERALS = _ZH_DIGITS + "十百千万亿"
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# Building blocks of the one scanning pattern below.
_ARABIC = r"(?<![\d.A-Za-z])(?<![A-Za-z]-)(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\d|,\d{3}|\.\d)"
_PERCENT = r"\s?[%％]|\s+(?i:percent|per\s+cent)(?![A-Za-z])"
_EN_SCALES = r"(?i:thousand|million|billion|trillion|bn|mn)(?![A-Za-z])"
_EN_SMALL = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[-\s](?:one|two|three|four|five|six|seven|"
    r"eight|nine)(?![A-Za-z]))?|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|"
    r"zero|one|two|three|four|five|six|seven|eight|nine|ten)"
)
_MONTH_NAME = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?(?![A-Za-z])"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?!\d)(?:st|nd|rd|th)?"
_YEAR4 = r"(?:1\d|2[01])\d\d(?!\d)"
_ZH_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_ZH_DAY = r"(?:3[01]|[12]\d|0?[1-9]|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_NOT_ZH_NUMBER_BEFORE = rf"(?<![\d{_ZH_NUMERALS}])"

# Every branch starts at a digit, a bracket, 第, a currency sign, a Chinese numeral, or at the start of an
# English word whose first letter can begin a number word or a month name; checking that first keeps the
# scan cheap at the other positions (most of them).
_GUARD = rf"(?=[\d\[【第$¥￥{_ZH_NUMERALS}]|(?<![A-Za-z])[zotfsenZOTFSENJMADU])"
_SCAN = re.compile(
    _GUARD
    + "(?:"
    + "|".join(
        [
            # Dropped: citation markers, ordinals, and a month or day alone (so "6月" is not six).
            r"(?P<cite>[\[【]\s*\d{1,3}(?:\s*[,，、–-]\s*\d{1,3})*\s*[\]】])",
            rf"(?P<ordinal>第[{_ZH_NUMERALS}\d]+)",
            # Chinese dates and years: 2021年6月13日, 2021年6月, 2013年, 二〇一三年; 4月13日; 13日.
            rf"(?P<zyear>{_NOT_ZH_NUMBER_BEFORE}(?P<zy>{_YEAR4}|[〇零一二三四五六七八九]{{4}})年"
            rf"(?:(?P<zym>{_ZH_MONTH})月(?:(?P<zyd>{_ZH_DAY})[日号])?)?)",
            rf"(?P<zmonth>{_NOT_ZH_NUMBER_BEFORE}(?P<zm>{_ZH_MONTH})月(?:(?P<zd>{_ZH_DAY})[日号])?)",
            rf"(?P<zday>{_NOT_ZH_NUMBER_BEFORE}{_ZH_DAY}[日号])",
            # English dates: 2021-06-13, 13 June 2021, June 13, 2021, June 2021, April 13.
            rf"(?P<iso>(?<![\d-])(?P<iy>{_YEAR4})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01])(?![\d-]))",
            rf"(?P<dmy>(?<![\d.,])(?P<ed1>{_DAY})\s+(?:of\s+)?(?P<em1>{_MONTH_NAME})(?:,?\s+(?P<ey1>{_YEAR4}))?)",
            rf"(?P<mdy>(?<![A-Za-z])(?P<em2>{_MONTH_NAME})"
            rf"(?:\s+(?P<ed2>{_DAY})(?:,?\s+(?P<ey2>{_YEAR4}))?|,?\s+(?P<ey3>{_YEAR4})))",
            # 百分之十五, 百分之15.
            rf"(?P<zpct>百分之(?P<zpnum>[{_ZH_DIGITS}十百千]+(?:点[{_ZH_DIGITS}]+)?|\d+(?:\.\d+)?))",
            # Arabic digits with maybe a scale word, currency, 多/余 or %: "340,000", "3.43 million",
            # "17.5 billion yuan", "300亿元", "30多万", "10万余", "15%".
            rf"(?P<arabic>(?P<acur>(?:US)?\$|[¥￥])?\s?(?P<anum>{_ARABIC})"
            rf"(?:\s*(?P<aen>{_EN_SCALES})|\s?(?P<azh>[多余]?[百千万亿]+))?(?P<apost>[多余])?"
            rf"(?:(?P<apct>{_PERCENT})|(?P<acur2>\s+(?i:yuan|rmb|us\s+dollars|dollars)(?![A-Za-z])|元|美元))?"
            r"(?![\dA-Za-z]))",
            # English number words: "nine", "twenty-five", "two hundred", "ten thousand", "fifteen percent".
            rf"(?P<words>(?<![A-Za-z])(?P<wnum>(?i:{_EN_SMALL}(?:\s+hundred(?:\s+(?:and\s+)?{_EN_SMALL})?)?))"
            rf"(?:\s+(?P<wscale>{_EN_SCALES}))?(?P<wpct>{_PERCENT})?(?![A-Za-z]|-[A-Za-z]))",
            # Chinese numerals: 三, 十四, 一百, 十余, 三十多万, 一千二百万元.
            rf"(?P<zh>(?P<znum>[{_ZH_NUMERALS}]+(?:点[{_ZH_DIGITS}]+)?)"
            r"(?:(?P<zmid>[多余])(?P<zscale>[百千万亿]+))?(?P<zpost>[多余])?(?P<zcur>元)?)",
        ]
    )
    + ")"
)
# A qualifier right before a number: searched only in the few characters before each figure found.
_QUALIFIER = re.compile(
    r"(?:(?<![A-Za-z])(?i:about|around|approximately|roughly|nearly|almost|over|some|more\s+than|less\s+than|"
    r"fewer\s+than|at\s+least|up\s+to|close\s+to)\s+|超过|超|近|约|逾|将近|接近|大约|不到|不足|多达)\Z"
)
_CJK_AFTER = re.compile(r"\s*[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Figure:
    """One figure as written in a text, with its normalized value and kind."""

    text: str  # as written, qualifier and unit included: "about 3.43 million", "超175亿元", "2021年6月"
    value: float  # 3430000.0, 17500000000.0, 15.0 for 15%, 20210600.0 for June 2021, 2021.0 for a year
    kind: str  # one of KINDS
    start: int  # text == source[start:end]
    end: int
    unit: str = ""  # "CNY" or "USD" when a currency is written, else ""

    def key(self) -> str:
        """Canonical language-neutral token: "num:3430000", "pct:15", "date:2021-06", "year:2021"."""
        if self.kind == "date":
            year, rest = divmod(int(self.value), 10000)
            month, day = divmod(rest, 100)
            if not year:
                return f"date:--{month:02d}-{day:02d}"  # ISO 8601 for a month and day without a year
            return f"date:{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
        return f"{_KEY_PREFIX[self.kind]}:{_canonical(self.value)}"


def find_figures(text: str) -> list[Figure]:
    """Every figure in English or Chinese `text`, in order of appearance."""
    scanned = text.translate(_FULLWIDTH_DIGITS)  # same length, so offsets still index `text`
    figures = []
    for match in _SCAN.finditer(scanned):
        figure = _figure(match, text)
        if figure is not None:
            figures.append(figure)
    return figures


def parse_figure(s: str) -> Figure | None:
    """The one figure in `s` written alone ("3.43 million", "26万", "nine"); None if none or several."""
    stripped = s.strip()
    if stripped.lower() == "one" or stripped == "一":
        start = s.index(stripped)
        return Figure(stripped, 1.0, "number", start, start + len(stripped))
    figures = find_figures(s)
    return figures[0] if len(figures) == 1 else None


def same_figure(a: Figure, b: Figure) -> bool:
    """Same kind and same value (to float tolerance), however each was written."""
    return a.kind == b.kind and math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-9)


def states_figure(text: str, expected: str | Figure) -> bool:
    """Whether `text` states the figure `expected`: the same value written any way; a year is stated by a date in it."""
    wanted = expected if isinstance(expected, Figure) else parse_figure(expected)
    if wanted is None:
        raise ValueError(f"not one figure: {expected!r}")
    for figure in find_figures(text):
        if same_figure(figure, wanted):
            return True
        if wanted.kind == "year" and figure.kind == "date" and int(figure.value) // 10000 == int(wanted.value):
            return True
    return False


def _figure(match: re.Match[str], original: str) -> Figure | None:
    branch = match.lastgroup
    if branch == "arabic":
        return _arabic(match, original)
    if branch == "words":
        return _words(match, original)
    if branch == "zh":
        return _chinese(match, original)
    start, end = match.span()
    if branch == "zpct":
        value = _zh_value(match["zpnum"])
        return None if value is None else Figure(original[start:end], value, "percent", start, end)
    if branch == "zyear":
        year, month, day = _zh_int(match["zy"]), _zh_int(match["zym"]), _zh_int(match["zyd"])
    elif branch == "zmonth" and match["zd"]:
        year, month, day = 0, _zh_int(match["zm"]), _zh_int(match["zd"])
    elif branch == "iso":
        year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
    elif branch == "dmy":
        year, month, day = int(match["ey1"] or 0), _month(match["em1"]), _day(match["ed1"])
    elif branch == "mdy":
        year, month, day = int(match["ey2"] or match["ey3"] or 0), _month(match["em2"]), _day(match["ed2"])
    else:
        return None  # a citation marker, an ordinal, or a month or day alone
    text = original[start:end]
    if not month:
        return Figure(text, float(year), "year", start, end) if year else None
    if not (1 <= month <= 12 and 0 <= day <= 31) or not (year or day):
        return None
    return Figure(text, float(year * 10000 + month * 100 + day), "date", start, end)


def _arabic(match: re.Match[str], original: str) -> Figure:
    digits = match["anum"]
    scale = 1
    if match["aen"]:
        scale = _EN_SCALE[match["aen"].lower()]
    elif match["azh"]:
        for char in match["azh"].lstrip("多余"):
            scale *= _ZH_SCALE[char]
    value = float(Decimal(digits.replace(",", "")) * scale)
    currency = re.sub(r"\s+", " ", (match["acur"] or match["acur2"] or "").strip().lower())
    start, end = _qualified_start(original, match.start()), match.end()
    if match["apct"]:
        return Figure(original[start:end], value, "percent", start, end)
    year_shaped = len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2099 and scale == 1
    counted = start < match.start() or currency or match["apost"] or _CJK_AFTER.match(original, end)
    kind = "year" if year_shaped and not counted else "number"  # 超2000, 2000人, $2000 are counts
    return Figure(original[start:end], value, kind, start, end, _CURRENCY.get(currency, ""))


def _words(match: re.Match[str], original: str) -> Figure | None:
    tokens = [t for t in re.split(r"[-\s]+", match["wnum"].lower()) if t != "and"]
    value = 0
    for token in tokens:
        value = value * 100 if token == "hundred" else value + _EN_WORD[token]
    if match["wscale"]:
        value *= _EN_SCALE[match["wscale"].lower()]
    elif tokens == ["one"] and not match["wpct"]:
        return None  # "one of the…", "one axis": rarely a count
    start, end = _qualified_start(original, match.start()), match.end()
    return Figure(original[start:end], float(value), "percent" if match["wpct"] else "number", start, end)


def _chinese(match: re.Match[str], original: str) -> Figure | None:
    run, before = match["znum"], original[match.start() - 1 : match.start()]
    if run == "一" or before in ("数", "几") or original.startswith("位数", match.end("znum")):
        return None  # 一直, 统一, 数十 (dozens), 几百, 两位数 (double-digit): not counts
    if not any(char in _ZH_DIGITS for char in run):
        # 百, 千万, 十分 (very) are words; 十 (ten), 百余 (100-odd) and 千多 (1000-odd) are counts
        counted = run == "十" and not original.startswith(("分", "足"), match.end("znum"))
        if not (counted or (len(run) == 1 and (match["zpost"] or match["zmid"]))):
            return None
        value: float | None = float(_ZH_SCALE[run])
    elif len(run) > 1 and all(char in _ZH_DIGITS for char in run):
        return None  # 三三两两, 五四: digit strings are years only before 年
    else:
        value = _zh_value(run)
    if value is None:
        return None
    for char in match["zscale"] or "":
        value *= _ZH_SCALE[char]
    start, end = _qualified_start(original, match.start()), match.end()
    return Figure(original[start:end], value, "number", start, end, "CNY" if match["zcur"] else "")


def _qualified_start(text: str, start: int) -> int:
    qualifier = _QUALIFIER.search(text, max(0, start - 16), start)
    return qualifier.start() if qualifier else start


@cache
def _cn2an() -> Any:
    # cn2an takes ~0.1 s to import: load it on first use, not when `rag` is imported.
    import cn2an

    return cn2an.cn2an


def _zh_value(numeral: str) -> float | None:
    """Value of a Chinese (or Arabic) numeral such as 十五, 一千二百万, 十五点五, 15; None if it is not one."""
    if numeral.replace(".", "", 1).isdigit():
        return float(Decimal(numeral))
    try:
        return float(_cn2an()(numeral, "normal"))
    except (ValueError, KeyError, IndexError):  # cn2an raises KeyError on some malformed runs (千亿六)
        return None


def _zh_int(numeral: str | None) -> int:
    value = _zh_value(numeral) if numeral else None
    return int(value) if value is not None else 0


def _month(name: str) -> int:
    return _MONTH[name.rstrip(".")]


def _day(day: str | None) -> int:
    return int(day.rstrip("stndrh")) if day else 0


def _canonical(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    return f"{round(value, 6):f}".rstrip("0").rstrip(".")
