"""How the offline answerer reads a sentence: the question's words grouped and credited, a figure's own clause or
list item, how close a figure stands to given words, and a figure written the reader's way."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from fractions import Fraction
from functools import lru_cache

from rag.figures import Figure, find_figures
from rag.question import Question
from rag.text import CJK, root, stem, tokenize

# Words that say what kind of figure is asked for, not what about: a sentence need not repeat them.
FORM_WORDS = frozenset(
    "约 占 类 自 以来 时候 一年 总 超过 总量 比例 人数 时间 数量 多 大 "
    "year month date day share proportion percentage fraction amount size big large altogether".split()
)


def term_groups(question: Question) -> list[list[str]]:
    """The question's own words (not their translations, not question-form words), with the pieces jieba also
    gives of a Chinese compound grouped under it: each group is one word of the question, its longest form first."""
    own = sorted(
        (t for t, weight in question.terms.items() if weight >= 1.0 and t not in FORM_WORDS), key=len, reverse=True
    )
    groups: list[list[str]] = []
    for term in own:
        home = next((g for g in groups if CJK.search(term) and term in g[0]), None) if CJK.search(term) else None
        if home is None:
            groups.append([term])
        else:
            home.append(term)
    return groups


def spread_credit(word: str, credits: Mapping[str, float]) -> float:
    """The credit of a word from the credits of its pieces: each character takes the best credit of a piece
    covering it, and the word the mean over its characters (one piece for an English word: its own credit)."""
    if len(credits) == 1:
        return next(iter(credits.values()))
    best = [0.0] * len(word)
    for piece, credit in credits.items():
        start = word.find(piece)
        while start >= 0:
            for i in range(start, start + len(piece)):
                best[i] = max(best[i], credit)
            start = word.find(piece, start + 1)
    return sum(best) / len(best)


_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=16384)  # names are checked against the same retrieved paragraphs question after question
def bare_text(text: str) -> str:
    """Lower case, without spaces and punctuation: how names are compared ("Gusu Talent Fund" = "gusutalentfund")."""
    return _NOT_WORD.sub("", text.lower())


def about_names(forms: Sequence[str], names: Sequence[str]) -> bool:
    """Whether a name, written any of `forms` (as the question writes it, its translations), is among `names` (an
    article's, `Index.names`): every search term of a form is one of them, or for Chinese, part of one or holding
    one (苏州 of 苏州市)."""
    if not names:
        return False
    for form in forms:
        terms = tokenize(form)
        if terms and all(any(_same_name(term, name) for name in names) for term in terms):
            return True
    return False


def _same_name(term: str, name: str) -> bool:
    if term == name:
        return True
    chinese = CJK.match(term) and CJK.match(name) and min(len(term), len(name)) >= 2
    return bool(chinese) and (term in name or name in term)


def _words(terms: Sequence[str]) -> list[frozenset[str]]:
    """Search terms in text order, a Chinese word and the pieces jieba gives before it (高层, 层次, 人才, 高层次,
    高层次人才) taken as one word: how far a figure stands from a word is counted in words, not pieces."""
    words: list[tuple[str, frozenset[str]]] = []
    for term in terms:
        merged = {term}
        while CJK.match(term) and words and words[-1][0] in term and len(words[-1][0]) < len(term):
            merged |= words.pop()[1]
        words.append((term, frozenset(merged)))
    return [pieces for _, pieces in words]


@lru_cache(maxsize=8192)
def with_parts(words: frozenset[str]) -> frozenset[str]:
    """Search terms with the parts of each hyphenated English word: "high-level" also meets "level" (高层次)."""
    if not any("-" in w for w in words):
        return words
    return words | {stem(part) for w in words if "-" in w for part in w.split("-") if len(part) > 1}


@lru_cache(maxsize=8192)
def roots_of(words: frozenset[str]) -> frozenset[str]:
    """The Snowball roots of search terms (see `root`): "industrial" meets "industry"."""
    return frozenset(map(root, words))


@lru_cache(maxsize=65536)
def figures_in(text: str) -> tuple[Figure, ...]:
    """The figures of a sentence, remembered: the same sentences come back question after question."""
    return tuple(find_figures(text))


_CLAUSE_BREAK = re.compile(r"[，；;]|,\s|:\s|：")
# "… high-level talents exceeds (more than) 340,000": the words before such a verb name what the figure counts.
_EN_VERB_BEFORE = re.compile(
    r"\s(?:exceeds?|exceeded|reach(?:es|ed)?|totals?|totalled|stands? at|stood at|is|are|was|were)"
    r"(?:\s(?:more than|over|about|nearly|around|almost|approximately))?\s*$"
)


_ITEM_BREAK = re.compile(r"[，；;、：。]")


def is_listed(text: str, figure: Figure) -> bool:
    """Whether the figure is a count or share in Chinese, which names only its own list item or clause
    ("其中国家级媒体平台120篇、省级媒体平台520篇"); a date at the head of a sentence dates all of it."""
    return figure.kind in ("number", "percent") and bool(CJK.search(text[max(0, figure.start - 2) : figure.end + 2]))


def item_of(text: str, start: int, end: int) -> str:
    """The list item or clause of a Chinese sentence that holds text[start:end]."""
    left = max((m.end() for m in _ITEM_BREAK.finditer(text, 0, start)), default=0)
    cut = _ITEM_BREAK.search(text, end)
    return text[left : cut.start() if cut else len(text)]


def clause_of(text: str, start: int, end: int) -> str:
    """The clause around text[start:end], verbatim, with the clause before it when it is short; the whole sentence
    when the clause is shorter than 8 characters."""
    chinese = bool(CJK.search(text))
    breaks = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(text)), len(text)]
    left = max(b for b in breaks if b <= start)
    right = min(b for b in breaks if b >= end)
    if right - left < (20 if chinese else 60):
        left = max((b for b in breaks if b < left), default=left)  # "在省内首创“惠农卡”，已覆盖全县20余个…"
    clause = text[left:right].strip().rstrip("，,；;：:")
    return clause if len(clause) >= 8 else text


# Words that may stand between a figure and the noun it counts without being a noun themselves.
_FILLER = frozenset("个 家 项 名 人 人次 元 亿元 万元 余 多 超 近 约 of".split())


def closeness(text: str, figure: Figure, terms: AbstractSet[str]) -> float:
    """1.0 when the figure stands right by one of `terms` ("3.43 million talents", "人才26万人"), less with
    words in between ("60,000 industrial innovation talents"), 0 when none is near."""
    # English counts its noun after the figure; Chinese puts it either side ("人才26万人", "44个优质项目").
    # An English noun can also stand before its figure, across a verb ("the number of high-level talents
    # exceeds 340,000"), and English words past a clause break describe another figure ("reached 3.43
    # million, and … high-level talents").
    chinese = bool(CJK.search(text[max(0, figure.start - 2) : figure.end + 2]))
    following = text[figure.end : figure.end + 60]
    if is_listed(text, figure):
        item = item_of(text, figure.start, figure.end)
        start = text.index(item, max(0, figure.start - len(item)))
        following = text[figure.end : start + len(item)]
        before = tokenize(text[max(start, figure.start - 30) : figure.start])
    elif chinese:
        before = tokenize(text[max(0, figure.start - 30) : figure.start])
    else:
        cut = _CLAUSE_BREAK.search(following)
        if cut and figure.kind not in ("date", "year"):  # "In May 2019, the firm was listed": the date's event
            following = following[: cut.start()]
        preceding = text[max(0, figure.start - 120) : figure.start]
        tail = max(0, len(preceding) - 40)  # the verb stands right before the figure
        verb = _EN_VERB_BEFORE.search(preceding, tail)
        before = tokenize(_CLAUSE_BREAK.split(preceding[: verb.start()])[-1]) if verb else []
    after = _words([w for w in tokenize(following) if w not in _FILLER])
    best = 0.0
    reach = 0 if chinese else 1  # across a verb, an English noun stands a little further from its figure
    near = [*((g + reach, w) for g, w in enumerate(reversed(_words(before)[-4:]))), *enumerate(after[:4])]
    for gap, word in near:
        if not terms.isdisjoint(with_parts(word)):
            best = max(best, 1.0 / (1 + gap))
    return best


def write_figure(figure: Figure, lang: str) -> str:
    """A figure written the way a reader of `lang` writes it: 2.6e5 → "260,000" / "26万"."""
    value = figure.value
    money = {"CNY": (" yuan", "元"), "USD": (" US dollars", "美元")}.get(figure.unit, ("", ""))
    if figure.kind == "percent":
        return f"{_number(value)}%"
    if figure.kind == "points":
        return f"{_number(value)} percentage points" if lang == "en" else f"{_number(value)}个百分点"
    if figure.kind == "fraction":
        share = Fraction(value).limit_denominator(100)
        return f"{share.numerator}/{share.denominator}"
    if figure.kind == "decade":
        return f"{int(value)}s" if lang == "en" else f"{int(value)}年代"
    if figure.kind == "year":
        return f"{int(value)}" if lang == "en" else f"{int(value)}年"
    if figure.kind == "date":
        year, month, day = int(value) // 10000, int(value) // 100 % 100, int(value) % 100
        if lang == "zh":
            return (f"{year}年" if year else "") + (f"{month}月" if month else "") + (f"{day}日" if day else "")
        months = "January February March April May June July August September October November December".split()
        parts = [months[month - 1] if month else "", str(day) if day else "", str(year) if year else ""]
        return " ".join(p for p in parts if p)
    if lang == "zh":
        for scale, word in ((1e8, "亿"), (1e4, "万")):
            if value >= scale:
                return f"{_number(value / scale)}{word}{money[1]}"
        return f"{_number(value)}{money[1]}"
    for scale, word in ((1e9, " billion"), (1e6, " million")):
        if value >= scale:
            return f"{_number(value / scale)}{word}{money[0]}"
    return f"{value:,.0f}{money[0]}" if value == int(value) else f"{value:,}{money[0]}"


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")
