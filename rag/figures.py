"""Figures (counts, amounts, percentages, years, dates) in English or Chinese text, compared by value.

"about 3.43 million" and "343万" are the same figure; so are "15%" and "百分之十五", "June 2021" and
"2021年6月", "a third of" and "三分之一". Kinds, and how a figure's kind is decided:

- ``percent``: a number followed by %, ％, "percent", 成 (三成 = 30), or written 百分之… . The value is the number.
- ``points``: percentage points, "3 percentage points" or "3个百分点"; never the same figure as "3%".
- ``fraction``: "a third of", "two-thirds", "三分之一", "一半", "1/3" (numerator below a denominator up to 10).
  The value is the ratio (0.333…); a fraction is never the same figure as a percent.
- ``date``: a month with a year and/or a day ("June 2021", "2021年6月", "April 13", "4月13日").
  The value packs year*10000 + month*100 + day, 0 for a part not written.
- ``year``: a year alone: four digits 1000–2199 followed by 年 ("2013年", "二〇一三年"), or, with no 年,
  a bare four-digit integer 1900–2099 ("In 2007, …"). A four-digit integer is a count, not a year, when
  it is written with a separator or a decimal ("2,021"), takes a scale word, a %, a currency or 多/余,
  follows a qualifier ("more than 2000", "超2000"), or is followed by a Chinese counter ("2000人").
- ``decade``: "the 1970s", "1980年代", "20世纪80年代"; the value is the decade's first year (1970).
- ``number``: every other count or amount; scale words multiply ("3.43 million", "26万", "175亿元",
  "2.5m", "1bn", "$5k", "3tn"). A minus sign makes it negative where it cannot be a dash ("-3.2%", "−5").

Currencies are kept in ``unit`` (USD, CNY, GBP, EUR, HKD, JPY, and SGD/AUD/CAD/NZD for S$/A$/C$/NZ$) and do
not change the value or the comparison. A range ("10-15%", "between 3 and 5 million", "3至5万", "1665–66") is
two figures, its ends, with ``bound`` "low" and "high": the low end takes the high end's scale, kind and unit
when it is written bare ("10" in "10-15%" is 10%), and a two-digit high end of a year takes its century.
Qualifiers (about, more than, 超, 近, 余, 多) and counters (人, 家, 项, 元, yuan) never change the value;
a qualifier is part of a figure's text. Not figures: citation markers ("[1]"), ordinals ("first", "第一",
"100th"), a month or day alone ("June", "6月", "13日"), the words "one" and "一" standing alone (an
article or a word part far more often than a count; `parse_figure` still reads them written alone), and a
single Chinese numeral not followed by a counter or unit (四川, 两岸, 星期三, 零售; 三人, 两次, 十年 are counts).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import Any

from rag.text import CJK, HAN

KINDS = ("number", "percent", "date", "year", "points", "fraction", "decade")
_KEY_PREFIX = {"number": "num", "percent": "pct", "date": "date", "year": "year", "points": "pp", "fraction": "frac"}

_EN_SCALE = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "mn": 10**6,
    "m": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
    "tn": 10**12,
}
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
_EN_WORD["a"] = 1
_DENOMINATOR = {
    name: number
    for number, names in enumerate(
        "half halves|third thirds|quarter quarters fourth fourths|fifth fifths|sixth sixths|seventh sevenths|"
        "eighth eighths|ninth ninths|tenth tenths".split("|"),
        2,
    )
    for name in names.split()
}
_MONTH = {
    name: number
    for number, names in enumerate(
        "January Jan|February Feb|March Mar|April Apr|May|June Jun|July Jul|August Aug|September Sept Sep|"
        "October Oct|November Nov|December Dec".split("|"),
        1,
    )
    for name in names.split()
}
# Currency as written (lower case, spaces collapsed) → ISO code; ¥ alone is read as yuan, as Chinese news writes it.
_CURRENCY = {sign: "CNY" for sign in ("元", "yuan", "rmb", "renminbi", "cny", "人民币", "¥", "￥")}
_CURRENCY.update({sign: "USD" for sign in ("美元", "美金", "$", "us$", "usd", "dollars", "us dollars")})
_CURRENCY.update({sign: "GBP" for sign in ("英镑", "£", "gbp", "sterling", "pounds sterling")})
_CURRENCY.update({sign: "EUR" for sign in ("欧元", "€", "eur", "euros", "euro")})
_CURRENCY.update({sign: "HKD" for sign in ("港元", "港币", "hk$", "hkd", "hk dollars", "hong kong dollars")})
_CURRENCY.update({sign: "JPY" for sign in ("日元", "日圆", "jpy", "yen")})
_CURRENCY.update({"s$": "SGD", "a$": "AUD", "c$": "CAD", "nz$": "NZD", "新台币": "TWD", "台币": "TWD"})
_CURRENCY.update({f"{code} $": code.upper() for code in ("usd", "aud", "nzd", "cad", "sgd", "hkd")})
_CURRENCY.update({f"{code}$": code.upper() for code in ("usd", "aud", "nzd", "cad", "sgd", "hkd")})
_CURRENCY.update({code: code.upper() for code in ("aud", "nzd", "cad", "sgd")})

_ZH_DIGITS = "零〇一二两三四五六七八九"
_ZH_NUMERALS = _ZH_DIGITS + "十百千万亿"
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# What may follow a single Chinese numeral for it to be a count ("三人", "两次", "十年", "三大"), after the
# development data's README: units of time, money and measure, then counters. 一 takes only the units, and not
# 度 (一度 "once"): 一个/一位/一种 are nearly always the indefinite article.
_ZH_MEASURES = (
    "年代 世纪 年 个月 小时 分钟 秒 天 周 星期 岁 元 圆 美元 英镑 欧元 日元 港元 港币 澳元 加元 公里 千米 厘米 毫米 "
    "公分 公尺 英里 英尺 海里 米 里 尺 寸 平方 立方 亩 公顷 吨 公斤 千克 克 斤 磅 毫升 升 摄氏度 倍"
).split()
_ZH_COUNTERS = (
    "个 名 位 人次 人 次 届 种 座 条 项 件 部 本 家 所 只 头 匹 辆 架 艘 场 册 卷 章 节 集 季 期 批 块 户 枚 颗 层 间 "
    "支 队 局 盘 票 份 例 首 幅 篇 张 片 根 株 棵 门 步 轮 任 级 栋 套 对 双 组 类 席 大 度 成 月 日 号"
).split()
# 哪一年 "which year", 每一年 "each year", 同一年 "the same year", 这一天 "this day": 一 picks one out, it does not count.
_NOT_ONE_BEFORE = set("哪每同这那前后上下另任统单唯逐其某")
_ZH_ONE_UNIT = re.compile("|".join(sorted(_ZH_MEASURES, key=len, reverse=True)))
_ZH_UNIT = re.compile(
    "|".join(sorted(_ZH_MEASURES + _ZH_COUNTERS, key=len, reverse=True)) + rf"|\s*(?:[至到~～－-])\s*[\d{_ZH_NUMERALS}]"
)

# Building blocks of the one scanning pattern below.
_ARABIC = r"(?<![\d.])(?:(?<=USD|RMB|CNY|HKD|GBP|EUR|JPY|AUD|NZD|CAD|SGD)|(?<![A-Za-z]))(?<![A-Za-z]-)(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\d|,\d{3}|\.\d)"
_PERCENT = r"\s?[%％]|\s+(?i:percent|per\s+cent)(?![A-Za-z])"
_POINTS = r"\s*个?百分点|\s+(?i:percentage|pct\.?)\s+points?(?![A-Za-z])"
_EN_SCALES = r"(?i:thousand|million|billion|trillion|bn|mn|tn)(?![A-Za-z])"
# "2.5m", "$5k": written against the number; not m/s, m2 or the metres of "100m/s".
_EN_ABBREVIATED = r"(?:m|[kK])(?![A-Za-z\d/²³])"
_CUR_BEFORE = r"(?:US|HK|NZ|[SAC])?\$|[¥￥£€]|(?:USD|RMB|CNY|HKD|GBP|EUR|JPY|AUD|NZD|CAD|SGD)\s?\$?"
_CUR_AFTER = (
    r"\s+(?i:yuan|rmb|renminbi|us\s+dollars|dollars|hong\s+kong\s+dollars|hk\s+dollars|pounds\s+sterling|"
    r"sterling|euros?|yen)(?![A-Za-z])|\s?(?:USD|RMB|CNY|HKD|GBP|EUR|JPY)(?![A-Za-z])|美元|美金|港元|港币|欧元|英镑|日元|日圆|元"
)
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
_ZH_SMALL = r"(?:\d{1,3}|[一二三四五六七八九十百千]+)"
_NOT_ZH_NUMBER_BEFORE = rf"(?<![\d{_ZH_NUMERALS}])"

# Every branch starts at a digit, a bracket, 第, a currency sign or code, a minus, a Chinese numeral, or at the
# start of an English word whose first letter can begin a number word, a fraction or a month name; checking that
# first keeps the scan cheap at the other positions (most of them).
_FIRST = rf"\d\[【第$¥￥£€{_ZH_NUMERALS}"
_GUARD = (
    rf"(?=[{_FIRST}zotfsenhaZOTFSENHAJMDUGCRN])(?:(?=[{_FIRST}])|(?<![A-Za-z])(?=(?i:zero|one|two|thre|thir|four|"
    r"fi[fv]|six|seve|eigh|nine|ten|elev|twe|half|a[-\s])|J[au]|Fe|Ma|Ap|Au|Se|Oc|No|De|US|HK|NZ|[SAC]\$|RMB|CNY|GBP|CAD|SGD|AUD|"
    r"EUR|JPY))"
)
_SCAN = re.compile(
    _GUARD
    + "(?:"
    + "|".join(
        [
            # Dropped: citation markers, ordinals, and a month or day alone (so "6月" is not six).
            r"(?P<cite>[\[【]\s*\d{1,3}(?:\s*[,，、–-]\s*\d{1,3})*\s*[\]】])",
            rf"(?P<ordinal>第[{_ZH_NUMERALS}\d]+|{_NOT_ZH_NUMBER_BEFORE}(?<![\d.,])[{_ZH_NUMERALS}\d]+周年)",  # 100周年: the 100th
            # Decades: 1980年代, 20世纪80年代, the 1970s.
            r"(?P<zcentury>(?P<zc>\d{1,2}|[一二]?十[一二三四五六七八九]?|[一二三四五六七八九])世纪"
            r"(?P<zcd>[1-9]0|[一二三四五六七八九]十)年代)",
            rf"(?P<decade>{_NOT_ZH_NUMBER_BEFORE}(?<![.,])(?P<dy>1\d\d0|20\d0)(?:年代|s(?![A-Za-z])))",
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
            # Fractions: 三分之一, 一半, 1/3, a third of, two-thirds, half of.
            rf"(?P<zfrac>(?P<zfd>{_ZH_SMALL})分之(?P<zfn>{_ZH_SMALL}))",
            r"(?P<zhalf>(?<![统唯另])一半)",
            r"(?P<slash>(?<![\dA-Za-z/.,])(?P<sn>[1-9])/(?P<sd>[2-9]|10)(?![\d/.]))",
            r"(?P<efrac>(?<![A-Za-z])(?P<efn>(?i:a|one|two|three|four|five|six|seven|eight|nine))(?P<esep>[-\s])"
            r"(?P<efd>(?i:half|halves|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?))"
            r"(?![A-Za-z])(?P<eof>\s+of(?![A-Za-z]))?)",
            r"(?P<ehalf>(?<![A-Za-z])(?i:half)(?=\s+(?:of|the)(?![A-Za-z])))",
            # Arabic digits with maybe a currency, a scale word, 多/余, %, percentage points or 成: "340,000",
            # "3.43 million", "17.5 billion yuan", "£3.2bn", "300亿元", "30多万", "10万余", "15%", "3个百分点".
            rf"(?P<arabic>(?P<acur>{_CUR_BEFORE})?\s?(?P<anum>{_ARABIC})"
            rf"(?:\s*(?P<aen>{_EN_SCALES})|(?P<aab>{_EN_ABBREVIATED})|\s?(?P<azh>[多余]?[百千万亿]+)(?:(?<=[万亿])(?P<arest>\d{{1,4}}(?:[千百]万|[万千百])?)(?![\d年月号]|日(?![元圆])))?)?"
            r"(?P<apost>[多余])?"
            rf"(?:(?P<app>{_POINTS})|(?P<apct>{_PERCENT})|(?P<acn>成)(?![为立员功群本就果绩交])|(?P<acur2>{_CUR_AFTER}))?"
            r"(?![\dA-Za-z]))",
            # English number words: "nine", "twenty-five", "two hundred", "ten thousand", "fifteen percent".
            rf"(?P<words>(?<![A-Za-z])(?P<wnum>(?i:{_EN_SMALL}(?:\s+hundred(?:\s+(?:and\s+)?{_EN_SMALL})?)?))"
            rf"(?:\s+(?P<wscale>{_EN_SCALES}))?(?:(?P<wpp>{_POINTS})|(?P<wpct>{_PERCENT}))?(?![A-Za-z]|-[A-Za-z]))",
            # Chinese numerals: 三, 十四, 一百, 十余, 三十多万, 一千二百万元, 三成, 三个百分点.
            rf"(?P<zh>(?P<znum>[{_ZH_NUMERALS}]+(?:点[{_ZH_DIGITS}]+)?)"
            r"(?:(?P<zmid>[多余])(?P<zscale>[百千万亿]+))?(?P<zpost>[多余])?"
            r"(?:(?P<zpp>个?百分点)|(?P<zcn>成)(?![为立员功群本就果绩交不])|(?P<zcur>美元|港元|港币|欧元|英镑|日元|日圆|元))?)",
        ]
    )
    + ")"
)
# A qualifier right before a number: searched only in the few characters before each figure found.
_QUALIFIER = re.compile(
    r"(?:(?<![A-Za-z])(?i:about|around|approximately|roughly|nearly|almost|over|some|more\s+than|less\s+than|"
    r"fewer\s+than|at\s+least|up\s+to|close\s+to)\s+|超过|超|近|约|逾|将近|接近|大约|不到|不足|多达)\Z"
)
_CJK_AFTER = re.compile(rf"\s*[{HAN}]")
# "the first half of 2023", "the top half of the box": a part, not a share.
_NOT_A_HALF = re.compile(
    r"(?<![A-Za-z])(?i:first|second|other|latter|the|a|one|top|bottom|upper|lower|left|right|back|front|this|that|"
    r"each|its|their|his|her|our|last|past|next|final|northern|southern|eastern|western|north|south|east|west)\s+\Z"
)
# What joins the two ends of a range: "10-15%", "3 to 5 million", "between 3 and 5 million", "3至5万".
_RANGE = re.compile(r"\s*[-–—~～－/]\s*|\s+(?:to|and)\s+|\s*[至到]\s*")
_BETWEEN = re.compile(r"(?i:between)\s+\Z")


@dataclass(frozen=True)
class Figure:
    """One figure as written in a text, with its normalized value and kind."""

    text: str  # as written, qualifier and unit included: "about 3.43 million", "超175亿元", "2021年6月"
    value: float  # 3430000.0, 17500000000.0, 15.0 for 15%, 20210600.0 for June 2021, 2021.0 for a year
    kind: str  # one of KINDS
    start: int  # text == source[start:end]
    end: int
    unit: str = ""  # an ISO currency code ("CNY", "USD", "GBP", "EUR", "HKD", "JPY", …) when one is written, else ""
    bound: str = ""  # "low" or "high" for an end of a range ("10-15%"), else ""

    def key(self) -> str:
        """Canonical language-neutral token: "num:3430000", "pct:15", "date:2021-06", "year:2021", "decade:1970s"."""
        if self.kind == "date":
            year, rest = divmod(int(self.value), 10000)
            month, day = divmod(rest, 100)
            if not year:
                return f"date:--{month:02d}-{day:02d}"  # ISO 8601 for a month and day without a year
            return f"date:{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
        if self.kind == "decade":
            return f"decade:{int(self.value)}s"
        return f"{_KEY_PREFIX[self.kind]}:{_canonical(self.value)}"


@dataclass(frozen=True)
class _Found:
    """A figure while scanning, with the number as written before its scale word (for ranges)."""

    figure: Figure
    written: float  # 5.0 for "5 million"; the figure's value when it has no scale
    bare: bool  # a plain number: no scale, unit, qualifier, %, or 多/余 (may take those of a range's other end)


def find_figures(text: str) -> list[Figure]:
    """Every figure in English or Chinese `text`, in order of appearance; a range gives its two ends."""
    scanned = text.translate(_FULLWIDTH_DIGITS)  # same length, so offsets still index `text`
    found = []
    for match in _SCAN.finditer(scanned):
        item = _figure(match, text)
        if item is not None:
            found.append(item)
    if len(found) > 1:
        _join_ranges(found, text)
    return [item.figure for item in found]


def parse_figure(s: str) -> Figure | None:
    """The one figure in `s` written alone ("3.43 million", "26万", "nine"); None if none or several."""
    stripped = s.strip()
    if stripped.lower() == "one" or (len(stripped) == 1 and stripped in "一二两三四五六七八九十"):
        start = s.index(stripped)
        value = 1.0 if stripped.lower() == "one" else _zh_value(stripped)
        return Figure(stripped, value or 0.0, "number", start, start + len(stripped))
    figures = find_figures(s)
    return figures[0] if len(figures) == 1 else None


def same_figure(a: Figure, b: Figure) -> bool:
    """Same kind and same value (to float tolerance), however each was written; unit and bound are not compared."""
    return a.kind == b.kind and math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-9)


def states_figure(text: str, expected: str | Figure) -> bool:
    """Whether `text` states the figure `expected`: the same value written any way; a year is stated by a date in it."""
    wanted = expected if isinstance(expected, Figure) else parse_figure(expected)
    if wanted is None:
        raise ValueError(f"not one figure: {expected!r}")
    return any(states(figure, wanted) for figure in find_figures(text))


def states(figure: Figure, wanted: Figure) -> bool:
    """Whether `figure` states `wanted`: the same figure, or a date in the year wanted."""
    if same_figure(figure, wanted):
        return True
    return wanted.kind == "year" and figure.kind == "date" and int(figure.value) // 10000 == int(wanted.value)


def _figure(match: re.Match[str], original: str) -> _Found | None:
    branch = match.lastgroup
    if branch == "arabic":
        return _arabic(match, original)
    if branch == "words":
        return _words(match, original)
    if branch == "zh":
        return _chinese(match, original)
    start, end = match.span()
    if branch in ("zfrac", "zhalf", "slash", "efrac", "ehalf"):
        figure = _fraction(match, original)
        return None if figure is None else _Found(figure, figure.value, False)
    if branch == "zpct":
        value = _zh_value(match["zpnum"])
        return (
            None if value is None else _Found(Figure(original[start:end], value, "percent", start, end), value, False)
        )
    if branch in ("decade", "zcentury"):
        decade = int(match["dy"]) if branch == "decade" else (_zh_int(match["zc"]) - 1) * 100 + _zh_int(match["zcd"])
        return _Found(Figure(original[start:end], float(decade), "decade", start, end), decade, False)
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
        return _Found(Figure(text, float(year), "year", start, end), year, False) if year else None
    if not (1 <= month <= 12 and 0 <= day <= 31) or not (year or day):
        return None
    return _Found(Figure(text, float(year * 10000 + month * 100 + day), "date", start, end), 0, False)


def _arabic(match: re.Match[str], original: str) -> _Found:
    digits = match["anum"]
    scale = 1
    if match["aen"] or match["aab"]:
        scale = _EN_SCALE[(match["aen"] or match["aab"]).lower()]
    elif match["azh"]:
        for char in match["azh"].lstrip("多余"):
            scale *= _ZH_SCALE[char]
    written = Decimal(digits.replace(",", ""))
    start, end = match.start(), match.end()
    if not match["acur"] and start >= 1 and original[start - 1] in "-−" and _negative(original, start - 1):
        start, written = start - 1, -written
    value = float(written * scale)
    if match["arest"]:  # 2356万2318, 1亿2000万: the rest is below the scale word it follows
        rest = match["arest"]
        digits_of_rest = rest.rstrip("万千百")
        rest_value = int(digits_of_rest) * math.prod(_ZH_SCALE[char] for char in rest[len(digits_of_rest) :])
        if rest_value < scale and scale in (10**4, 10**8):
            value += rest_value if written >= 0 else -rest_value
    currency = re.sub(r"\s+", " ", (match["acur"] or match["acur2"] or "").strip().lower())
    unit = _zh_currency_before(original, start) or _CURRENCY.get(currency, "")
    bare = scale == 1 and not (match["apost"] or match["acn"])
    start = _qualified_start(original, start)
    if match["apct"] or match["app"] or match["acn"]:
        kind = "points" if match["app"] else "percent"
        value = value * 10 if match["acn"] else value
        return _Found(Figure(original[start:end], value, kind, start, end), float(written), False)
    year_shaped = len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2099 and scale == 1
    counted = start < match.start() or currency or match["apost"] or _CJK_AFTER.match(original, end)
    kind = "year" if year_shaped and not counted else "number"  # 超2000, 2000人, $2000 are counts
    return _Found(Figure(original[start:end], value, kind, start, end, unit), float(written), bare and kind == "number")


def _negative(text: str, sign: int) -> bool:
    """Whether the dash at `sign` is a minus: not between two figures ("10-15") nor inside a word ("COVID-19")."""
    if text.startswith("-", sign + 1) or re.match(r"[\d.,]+-", text[sign + 1 : sign + 16]):
        return False  # "-3-Speed": a hyphenated word
    before = text[max(0, sign - 12) : sign]
    stripped = before.rstrip()
    if not stripped:
        return True
    last = stripped[-1]
    # "10-15", "10 - 15", "5%-8%": a dash between figures; "a -67 penalty": a minus after a word and a space
    return not (last.isdigit() or last in "%％)" or (last.isascii() and last.isalpha() and stripped == before))


def _words(match: re.Match[str], original: str) -> _Found | None:
    tokens = [t for t in re.split(r"[-\s]+", match["wnum"].lower()) if t != "and"]
    value = 0
    for token in tokens:
        value = value * 100 if token == "hundred" else value + _EN_WORD[token]
    written = value
    if match["wscale"]:
        value *= _EN_SCALE[match["wscale"].lower()]
    elif tokens == ["one"] and not (match["wpct"] or match["wpp"]):
        return None  # "one of the…", "one axis": rarely a count
    start, end = _qualified_start(original, match.start()), match.end()
    kind = "points" if match["wpp"] else "percent" if match["wpct"] else "number"
    bare = kind == "number" and value == written
    return _Found(Figure(original[start:end], float(value), kind, start, end), float(written), bare)


def _chinese(match: re.Match[str], original: str) -> _Found | None:
    run, before = match["znum"], original[match.start() - 1 : match.start()]
    if run == "一" and (
        before in _NOT_ONE_BEFORE
        or not (match["zcn"] or match["zpp"] or match["zcur"] or _ZH_ONE_UNIT.match(original, match.end()))
    ):
        return None  # 一直, 统一, 一个: an article or a word part; 哪一年 (which year); 一年, 一倍 are counts
    if before in ("数", "几") or original.startswith("位数", match.end("znum")):
        return None  # 数十 (dozens), 几百, 两位数 (double-digit): not counts
    suffixed = match["zpost"] or match["zmid"] or match["zcur"] or match["zpp"] or match["zcn"]
    if run[0] not in "一二两三四五六七八九十" and "点" not in run:
        # 百, 千万, 万一, 零售 are words; 百余 (100-odd) and 千多 (1000-odd) are counts
        if not (run in ("百", "千", "万", "亿") and (match["zpost"] or match["zmid"])):
            return None
        value: float | None = float(_ZH_SCALE[run])
    elif len(run) == 1:
        alone = not CJK.match(original[match.end() : match.end() + 1] or " ") and not CJK.match(before or " ")
        if not (suffixed or alone or _ZH_UNIT.match(original, match.end())):
            return None  # 四川, 两岸, 星期三: a numeral inside a word ("九" written alone is nine)
        value = _zh_value(run)
    elif all(char in _ZH_DIGITS for char in run):
        return None  # 三三两两, 五四: digit strings are years only before 年
    else:
        value = _zh_value(run)
    if value is None:
        return None
    core = run.rstrip("万亿")  # 五万: the number as written is 5, its scale 万 (for "三至五万")
    written = _zh_value(core) if core and core != run and "点" not in run else value
    written = written or value
    for char in match["zscale"] or "":
        value *= _ZH_SCALE[char]
    start, end = _qualified_start(original, match.start()), match.end()
    if match["zpp"] or match["zcn"]:
        kind = "points" if match["zpp"] else "percent"
        value = value * 10 if match["zcn"] else value
        return _Found(Figure(original[start:end], value, kind, start, end), written, False)
    unit = _zh_currency_before(original, match.start()) or _CURRENCY.get(match["zcur"] or "", "")
    bare = value == written and not match["zpost"]
    return _Found(Figure(original[start:end], value, "number", start, end, unit), written, bare)


def _fraction(match: re.Match[str], original: str) -> Figure | None:
    branch = match.lastgroup
    start, end = match.span()
    if branch == "zfrac":
        numerator, denominator = _zh_value(match["zfn"]), _zh_value(match["zfd"])
    elif branch == "slash":
        numerator, denominator = float(match["sn"]), float(match["sd"])
    elif branch == "efrac":
        word, name = match["efn"].lower(), match["efd"].lower()
        plural = name.endswith("s") and not name.startswith(("quarter", "half"))  # "two quarters": fiscal ones
        if match["esep"] != "-" and not (match["eof"] or plural) or (word in ("a", "one")) == name.endswith("s"):
            return None  # "a third party", "one quarter": a fraction only as "a third of", "one-third", "two thirds"
        numerator, denominator = float(_EN_WORD[word]), float(_DENOMINATOR[name])
        end = match.end("efd")
    elif branch == "ehalf":
        if _NOT_A_HALF.search(original, max(0, start - 10), start):
            return None
        numerator, denominator = 1.0, 2.0
    else:  # 一半
        numerator, denominator = 1.0, 2.0
    if not numerator or not denominator or numerator >= denominator:
        return None
    return Figure(original[start:end], numerator / denominator, "fraction", start, end)


def _join_ranges(found: list[_Found], text: str) -> None:
    """Mark the two ends of each range; a bare low end takes the high end's scale, kind and unit ("10-15%")."""
    for i in range(len(found) - 1):
        low, high = found[i], found[i + 1]
        a, b = low.figure, high.figure
        joint = _RANGE.fullmatch(text, a.end, b.start)
        if a.bound or joint is None:
            continue
        joiner = joint.group().strip()
        if joiner == "and" and not _BETWEEN.search(text, max(0, a.start - 10), a.start):
            continue  # "3 and 5 million" is two figures; "between 3 and 5 million" is a range
        span = _year_span(a, b, text) if joiner in ("-", "–", "—", "/") else None
        if span is not None:
            a, b = replace(a, value=span[0], kind="year"), replace(b, value=span[1], kind="year")
        elif joiner == "/" and not (a.kind == b.kind == "year"):
            continue  # 50%/50%, 24/7
        elif low.bare and b.kind in ("number", "percent", "points") and high.written:
            scale = b.value / high.written
            if scale != 1 and abs(a.value * scale) > abs(b.value):
                continue  # "from 150 to 2 million", "from 5 to 3 million": which scale the first one has is unclear
            a, b = (
                replace(a, value=a.value * scale, kind=b.kind, unit=a.unit or b.unit),
                replace(b, unit=b.unit or a.unit),
            )
            found[i], found[i + 1] = _Found(a, low.written, False), _Found(b, high.written, False)
        if a.kind != b.kind or a.value >= b.value:
            continue  # "fell from 44 to 24 percent" is a change, not a range (44 still is a percent)
        found[i] = _Found(replace(a, bound="low"), low.written, False)
        found[i + 1] = _Found(replace(b, bound="high"), high.written, False)


def _year_span(a: Figure, b: Figure, text: str) -> tuple[float, float] | None:
    """The two years of a span written "2005–06", "1728–29", "1961–2" or "2017/18"; None if it is not one."""
    first, second = text[a.start : a.end], text[b.start : b.end]
    if not (first.isdigit() and len(first) == 4 and 1000 <= a.value <= 2199 and a.kind in ("year", "number")):
        return None
    if b.kind == "year" and a.value < b.value:
        return a.value, b.value
    if not (second.isdigit() and len(second) <= 2 and b.kind == "number"):
        return None
    century = 10 ** len(second)
    if b.value <= a.value % century:
        return None
    return a.value, a.value - a.value % century + b.value


def _zh_currency_before(text: str, start: int) -> str:
    """The currency a Chinese amount names before it (新台币2300元, 港币5亿): it says more than the 元 after it."""
    before = text[max(0, start - 3) : start]
    if not before or before[-1] not in "币金":
        return ""
    return next((_CURRENCY[name] for name in ("新台币", "台币", "港币", "人民币", "美金") if before.endswith(name)), "")


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
