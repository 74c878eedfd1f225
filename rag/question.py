"""What a question asks for: its language, its key terms, and the kind of figure that would answer it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from rag.figures import Figure, find_figures
from rag.text import CAPITALIZED, CJK, HAN, detect_lang, tokenize
from rag.translate import Translator

_PATTERNS = [
    (
        "percent",
        re.compile(
            r"\b(what|which) (share|proportion|percentage|fraction)\b|\bpercent|比例|比重|百分之|占比|占.*多少", re.I
        ),
    ),
    (
        "date",
        re.compile(
            r"\bwhen\b|\bwhat (year|month|date|day)\b|\bwhich (year|month|date|day)\b|\bin what year\b|"
            r"何时|什么时候|哪一年|哪年|哪个月|几月|几号|哪一天|日期",
            re.I,
        ),
    ),
    (
        "amount",
        re.compile(
            r"\bhow much\b|\bvalue\b|\bworth\b|\bamount\b|\bscale\b|\bsize of\b|\bcapital\b|\bfund|\byuan\b|"
            r"\brevenue\b|\bbudget\b|\bGDP\b|\binvestment\b|"
            r"多少钱|金额|额度|总额|规模|资金|资本|产值|营收|收入|市值|多少亿|多少万元|投资|GDP",
            re.I,
        ),
    ),
    (
        "count",
        re.compile(
            r"\bhow many\b|\bnumber of\b|\bcount\b|\bwhat(?:'s| is| was| were) (?:the )?(?:\w+ ){0,2}?population\b|"
            r"多少|几个|几家|几项|几名|几次|几条|几场|几",
            re.I,
        ),
    ),
]


# A quoted name: “…”, "…", 《…》 or 「…」.
_QUOTED = re.compile(r"[“\"《「]([^”\"》」]{2,60})[”\"》」]")
# Questions that ask for a person, a place, a reason or a manner, not a figure.
_NOT_A_FIGURE = re.compile(
    r"^\W*(?:who|whom|whose|where|why)\b|^\W*how (?:do|does|did|can|could|is|are|was|were|has|have|will|would|should)\b|"
    r"谁|哪里|哪儿|为什么|为何|怎么|怎样|如何",
    re.I,
)
# Questions that ask for a difference or a ratio of two figures.
_COMPARISON = re.compile(
    r"\bhow (?:many|much) (?:more|fewer|less)\b.*\bthan\b|\bdifference between\b|\bratio\b|"
    r"比.{1,20}?(?:多|少)(?:多少|几)|相差|差距|差多少",
    re.I,
)
# Questions that ask what an article (or the articles) say as a whole: a summary, not one sentence.
_DOCUMENT_NOUN = r"(?:articles?|reports?|stor(?:y|ies)|pieces?|texts?|documents?|papers?|news|sources?)"
_SUMMARY = re.compile(
    r"\bsummar(?:y|ize|ise|izing|ising)\b|\bgist\b|\b(?:main|key) (?:points?|ideas?|topics?|messages?|takeaways?)\b|"
    r"\boverview\b|\btl;?dr\b|^\W*(?:(?:can|could|would) you |please )?sum (?:\w+ ){0,3}?up\b|"
    r"\bwhat(?:'s| is| are| was| were)\s+(?:the|this|that|these|those|each|every)\s+(?:\w+\s+){0,3}?"
    rf"{_DOCUMENT_NOUN}\s+(?:\w+\s+){{0,4}}?about\b|"
    r"\bwhat(?:'s| is| was)\s+(?:this|it|that)\s+about\b|"
    rf"\bwhat (?:do|does|did) (?:the|this|that|these|those) (?:\w+ ){{0,3}}?{_DOCUMENT_NOUN}"
    r"(?: (?:on|about|of) (?P<subject>[^?.,;!]{1,80}?))? (?:say|cover|discuss|describe|talk about|tell us|deal with)\b|"
    rf"\b(?:tell (?:me|us) about|describe|explain) (?:the|this|that|these) (?:\w+ ){{0,2}}?{_DOCUMENT_NOUN}\b|"
    rf"\b(?:topic|subject|theme|message|point)s? of (?:the|this|that|these) (?:\w+ ){{0,2}}?{_DOCUMENT_NOUN}\b|"
    r"概括|总结|摘要|概述|概要|大意|主要内容|主旨|要点|中心思想|"
    r"(?:文章|报道|这篇|该文|本文|全文|新闻|稿子|材料)\S{0,12}?"
    r"(?:讲|说|写|谈|介绍|报道|涉及|关于)(?:了|的)?(?:是)?(?:些)?(?:什么|啥|哪些)|"
    r"(?:文章|报道|这篇|该文|本文|全文|新闻)的?(?:主题|核心内容)|介绍一下(?:这篇|该|本)?(?:文章|报道|新闻)",
    re.I,
)
# What a summary question says besides its subject: the document it asks about, its language, the request.
_NOT_SUBJECT = re.compile(
    rf"\b(?:the|this|that|these|those)?\s*(?:english|chinese)?\s*{_DOCUMENT_NOUN}\b|\b(?:in )?(?:english|chinese)\b|"
    r"\b(?:please|give|tell|show|write|provide|can|could|would|you|me|us|briefly|brief|short|quick|version)\b|"
    r"文章|报道|新闻|这篇|那篇|该文|本文|全文|稿子|材料|一下|英文|中文|英语|汉语|请|简要|简单",
    re.I,
)
_AUXILIARIES = frozenset("are is was were have has had do does did can could will would of".split())
# The thing counted: the words after "how many" up to the verb, or the noun by 多少/几 ("多少家医院", "常住人口有多少").
_EN_MEASURE = re.compile(
    r"\bhow many\s+(.+?)(?=\s+(?:do|does|did|is|are|was|were|has|have|had|will|would|can|could|in|on|at|for|from|"
    r"with|across|between|since|during|of|that|which|who|per|so|to|work|live|join|joined)\b|[?,.]|$)",
    re.I,
)
_CLASSIFIERS = "个|家|项|名|位|所|条|次|篇|本|册|场|座|人次|批|款|只|套"
_ZH_MEASURE_AFTER = re.compile(r"(?:多少|几)(" + _CLASSIFIERS + r")?([" + HAN + r"A-Za-z]{0,6}?)(?=[的了？?，,。]|$)")
_ZH_MEASURE_BEFORE = re.compile(r"([" + HAN + r"A-Za-z]{2,6})(?:是|有|为|达)多少")
# Measures too general to check: any sentence with a number counts people or money in some sense.
GENERIC_MEASURES = frozenset(
    "people person time times money year years one ones thing things city 人 人数 钱 年 次 事 东西 情况 数量 规模 总数 "
    "总量 全市 全区".split()
)


@dataclass(frozen=True)
class Question:
    """A question, cleaned, with what the answerer needs to judge evidence."""

    text: str
    lang: str
    wants: str
    terms: dict[str, float] = field(default_factory=dict)  # search terms → weight (1.0 = the question's own words)
    measure: tuple[str, ...] = ()  # search terms of the thing asked about ("hospital"), () when not a count
    figures: tuple[Figure, ...] = ()  # figures the question itself states ("in 2019") — evidence must state them
    expansions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # own term → its translations
    quoted: tuple[str, ...] = ()  # what the question quotes (“惠农卡”, "Harbour Arts Fund"): names of one thing
    proper: frozenset[str] = frozenset()  # own terms that are proper nouns: France, 法国 (dictionaries know them)
    counted: str = ""  # the thing counted as the English question writes it ("quality projects"), "" if none
    strangers: tuple[str, ...] = ()  # places and other names no article mentions in any language ("Hangzhou")
    # The kind of answer asked for: "figure" (how many, how much, when, what share), "summary" (what an article is
    # about), "fact" (any other question: who, what, which, where, why, how).
    asks: str = "fact"


# "How tall", "how deep" … in Chinese (有多高, 多深): the dimension is a search term (the sentence says 高177米),
# the question word is not (jieba cuts 有多深, 多重 or 塔有 and 多 out of them, which no sentence holds).
_ZH_HOW = re.compile(r"有?多([高深宽重长远快])(?![" + HAN + r"])")


def analyse(text: str) -> Question:
    """Language, the kind of figure wanted, the thing counted, and the question's own search terms."""
    wants = next((name for name, pattern in _PATTERNS if pattern.search(text)), "any")
    if wants == "any" and _NOT_A_FIGURE.search(text):
        wants = "none"  # "Who founded the firm?", 河西为什么吸引游客？: no figure answers these
    if _COMPARISON.search(text):
        wants = "comparison"  # a difference or a ratio is worked out, not quoted: the articles state neither
    terms = {term: 1.0 for term in tokenize(_ZH_HOW.sub(r" \1", text))}
    return Question(
        asks=asks(text, wants),
        text=text,
        lang=detect_lang(text),
        wants=wants,
        terms=terms,
        measure=_measure(text),
        counted=_counted(text),
        figures=tuple(find_figures(text)),
        quoted=tuple(name.strip() for name in _QUOTED.findall(text) if len(name.strip()) >= 2),
        proper=frozenset(t for word in CAPITALIZED.findall(text) for t in tokenize(word)),
    )


def asks(text: str, wants: str) -> str:
    """The kind of answer a question asks for (see `Question.asks`), given the kind of figure it wants."""
    if _SUMMARY.search(text):
        return "summary"
    return "figure" if wants in FIGURE_WANTS or (wants == "any" and _QUANTITY.search(text)) else "fact"


def summary_subject(text: str) -> str:
    """What a summary question names as its subject: "talent policy" in "Summarize the report on talent policy",
    "" in "What is the English article about?"."""
    about = _ZH_ABOUT.search(text)  # 这篇关于X的文章讲了什么: X, which the request around it would swallow
    kept = about.group(1) if about else _SUMMARY.sub(lambda match: f" {match.group('subject') or ''} ", text)
    return " ".join(_NOT_SUBJECT.sub(" ", kept).split())


# "About X" before a document noun, in Chinese: 关于X的文章, 有关X的报道.
_ZH_ABOUT = re.compile(r"(?:关于|有关)([^，。？?！!、]{1,30}?)的(?:文章|报道|新闻|稿子|材料|内容)")


# The figures `Question.wants` that make a figure question; "any" (no figure named) and "none" are fact questions.
FIGURE_WANTS = ("count", "amount", "date", "percent", "comparison")
# A size, a length, an age, a frequency: any kind of figure answers "How large is …?", "多远" (wants "any").
_QUANTITY = re.compile(
    r"\bhow (?:large|big|small|long|far|old|tall|high|deep|wide|heavy|fast|often)\b|多大|多长|多远|多高|多深|多宽|多重|多久|多快|"
    r"\bwhat(?:'s| is| was| were) (?:the )?(?:\w+ ){0,2}?(?:area|height|width|depth|length|weight|altitude|elevation)"
    r" of\b",
    re.I,
)


def cross_lingual(
    question: Question, translator: Translator, vocabularies: Mapping[str, Mapping[str, int]]
) -> Question:
    """The question with its words translated into the other article language (CC-CEDICT, offline).

    Translations become extra search terms, weighted below the question's own words, and count as the word
    they came from when evidence is weighed.
    """
    other = "zh" if question.lang == "en" else "en"
    vocabulary = vocabularies.get(other)
    if question.lang == "zh":  # a word CC-CEDICT glosses with a name (法国: France) is a proper noun
        proper = question.proper | {t for t in question.terms if translator.is_name(t)}
        question = replace(question, proper=frozenset(proper))
    if not vocabulary:  # articles in one language only: nothing to translate into
        return replace(question, strangers=_strangers(question, translator, vocabularies.get(question.lang) or {}, {}))
    if question.lang == "en":
        tokens = re.findall(r"[a-z][a-z']*", question.text.lower())
    else:
        tokens = [t for t in tokenize(question.text) if CJK.search(t)]
    terms = dict(question.terms)
    expansions: dict[str, list[str]] = {}
    parts: dict[str, list[str]] = {}
    for own in question.terms:
        if "-" in own:
            for part in tokenize(own.replace("-", " ")):
                parts.setdefault(part, []).append(own)
    for term in translator.translate(tokens, question.lang, vocabulary):
        terms[term.text] = max(terms.get(term.text, 0.0), round(0.9 * term.weight, 3))
        for word in tokenize(term.source) or [term.source]:
            # The question's own term may be a hyphenated word the translator saw in parts ("high-tech").
            for own in [word] if word in question.terms else parts.get(word, []):
                expansions.setdefault(own, []).append(term.text)
    return replace(
        question,
        terms=terms,
        expansions={k: tuple(v) for k, v in expansions.items()},
        strangers=_strangers(question, translator, vocabularies.get(question.lang) or {}, vocabulary),
    )


def _strangers(
    question: Question, translator: Translator, own: Mapping[str, int], other: Mapping[str, int]
) -> tuple[str, ...]:
    """The question's proper nouns that CC-CEDICT knows as names and no article uses, neither as written nor as
    the name's translation: "How many talents does Hangzhou have?" (杭州) of articles on Suzhou."""
    found = []
    for term in sorted(question.proper):
        names = translator.name_translations(term, question.lang)
        if names and term not in own and not any(all(t in other for t in tokenize(n)) for n in names):
            found.append(term)
    return tuple(found)


def translated_query(question: Question, most: int = 8) -> dict[str, str]:
    """The question's translated words as a query in the other language (e5 matches words across languages poorly)."""
    translated = [term for term, weight in question.terms.items() if weight < 1.0]
    if not translated:
        return {}
    other = "zh" if question.lang == "en" else "en"
    best = sorted(translated, key=lambda term: -question.terms[term])[:most]
    return {other: ("" if other == "zh" else " ").join(best)}


def _counted(text: str) -> str:
    """The thing counted as the question writes it: "quality projects" in "How many quality projects has …
    landed?", 个党组织为民服务项目 in 实施了多少个党组织为民服务项目？"""
    chinese = _ZH_MEASURE_AFTER.search(text)
    if chinese and chinese[2] and all(CJK.match(ch) for ch in chinese[2]):
        return (chinese[1] or "") + chinese[2]
    match = _EN_MEASURE.search(text)
    words = match[1].strip() if match else ""
    plain = re.fullmatch(r"[A-Za-z][A-Za-z -]*", words) and len(words.split()) <= 5
    return words if plain and words.split()[0].lower() not in _AUXILIARIES else ""  # not "how many are …"


def _measure(text: str) -> tuple[str, ...]:
    match = _EN_MEASURE.search(text)
    if match:
        return tuple(w for w in tokenize(match.group(1)) if w not in GENERIC_MEASURES)
    match = _ZH_MEASURE_AFTER.search(text)
    if match and (match.group(1) or match.group(2)):
        words = [w for w in tokenize(match.group(2)) if w not in GENERIC_MEASURES]
        if match.group(1) and match.group(1) not in ("个", "名", "位"):
            words.append(match.group(1))  # a telling classifier: 篇 (articles), 场 (sessions), 家 (firms)
        if words:
            return tuple(words)
    match = _ZH_MEASURE_BEFORE.search(text)
    if match:
        words = [w for w in tokenize(match.group(1)) if w not in GENERIC_MEASURES and len(w) > 1]
        return tuple(words[-2:])
    return ()


def problem(text: str, max_chars: int) -> str | None:
    """Why a question cannot be asked as it is, in plain words; None when it is fine."""
    if not text.strip():
        return "Please type a question."
    if len(text) > max_chars:
        return f"That question is {len(text):,} characters long; please keep it under {max_chars:,}."
    letters = re.findall(r"\w", text)
    if not letters or (len(letters) >= 4 and len(set(letters)) == 1):  # "???", "苏苏苏苏苏？": no words to look up
        return "Please ask a question in words."
    return None


# Combining marks one character may carry: a letter has one or two (Vietnamese ệ decomposed), an Indic syllable two
# or three. A longer run is padding ("Zalgo" text, 1,900 accents on a question mark) and goes.
MAX_MARKS = 3


def clean(text: str) -> str:
    """Drop control characters, NULs and lone surrogates and runs of more than `MAX_MARKS` combining marks, compose
    accents (NFC: "e" and U+0301 are "é"), and collapse whitespace."""
    text = text.encode("utf-8", "ignore").decode("utf-8", "ignore") if _has_surrogates(text) else text
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = unicodedata.normalize("NFC", _without_padding(text))
    return re.sub(r"\s+", " ", text).strip()


def _without_padding(text: str) -> str:
    """`text` without its runs of more than `MAX_MARKS` combining marks."""
    kept: list[str] = []
    marks: list[str] = []
    for ch in text:
        if unicodedata.category(ch).startswith("M"):
            marks.append(ch)
            continue
        kept.extend(marks if len(marks) <= MAX_MARKS else ())
        marks = []
        kept.append(ch)
    kept.extend(marks if len(marks) <= MAX_MARKS else ())
    return "".join(kept)


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)
