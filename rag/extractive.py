"""The offline answerer: quotes the sentence that carries the asked figure, or says the articles do not say.

Every retrieved sentence that carries the kind of figure asked for is described by a few features (how much
of the question it covers, how close its figure stands to the thing asked about, how similar e5 finds it, …).
A small logistic model, fitted on a calibration question set separate from the evaluation set (see
`evals/calibrate.py`), turns them into the probability that the sentence answers the question. The best
sentence is quoted when that probability clears the model's threshold; otherwise the answer is "not found".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path

from rag.answer import Answer, Citation, not_found
from rag.citations import cite, defuse, marker
from rag.figures import Figure, find_figures, same_figure, states_figure
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.store import Record
from rag.text import CJK, root, stem, tokenize

MODEL_PATH = Path(__file__).with_name("answer_model.json")
LIKELIEST_SHOWN = 2  # answering sentences a refusal shows among its nearest passages, before retrieval's best
CROSS_MARGIN = 0.02  # how much likelier a sentence in the other language must be to win over the reader's

# How much a question word weighs, against a sentence in the other language, when no translation of it occurs in
# that language's article (上市 "to float (a company)" for "was listed"): the dictionary may have missed the
# article's wording. Middle of the calibration set's plateau: 0 to 0.5 answer the same questions right, 0.75 fewer.
UNTRANSLATED = 0.25
# The figure kinds that answer each kind of question.
WANTED = {
    "count": ("number",),
    "amount": ("number",),
    "date": ("date", "year"),
    "percent": ("percent",),
    "any": ("number", "percent", "date", "year"),
    "none": (),
    "comparison": (),
}
# Said instead of "not found" to a question no figure answers ("Who founded Nawei?"): the articles may well say.
NO_FIGURE_ASKED = {
    "en": "The offline answerer finds figures: how many, how much, when, what share. Ask for one, or set "
    "RAG_LLM=openai to have a language model answer other questions.",
    "zh": "离线模式只回答数字类问题：多少、几、何时、比例。请换成问数字的问法，或设置 RAG_LLM=openai 由语言模型回答其他问题。",
}
_NOT_WORD = re.compile(r"[\W_]+")
# Words that may stand between a figure and the noun it counts without being a noun themselves.
_FILLER = frozenset("个 家 项 名 人 人次 元 亿元 万元 余 多 超 近 约 of".split())
FEATURES = (
    "coverage",
    "dense",
    "dense_gap",
    "closeness",
    "measure_near",
    "measure_missing",
    "name_missing",
    "unknown",
    "cross",
    "rank",
    "money",
    "heading",
    "spelled",
)


@dataclass(frozen=True)
class AnswerModel:
    """Logistic weights over FEATURES, and the probability above which a sentence is quoted."""

    weights: Mapping[str, float]
    bias: float
    threshold: float
    fitted_on: str = ""

    def probability(self, features: Mapping[str, float]) -> float:
        """P(this sentence answers the question)."""
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> str:
        """The model as JSON, for `answer_model.json`."""
        data = {"weights": dict(self.weights), "bias": self.bias, "threshold": self.threshold}
        return json.dumps({**data, "fitted_on": self.fitted_on}, indent=2, ensure_ascii=False) + "\n"


@cache
def default_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The fitted model shipped with the package (read once, on first use)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return AnswerModel(data["weights"], data["bias"], data["threshold"], data.get("fitted_on", ""))


def choose(candidates: Sequence[tuple[float, bool]], threshold: float) -> int | None:
    """Which candidate to quote, given (probability, from the other language) best first; None: not found.

    The likeliest candidate that clears the threshold, except that a sentence in the other language, matched
    through dictionary translations (which are noisy), must beat the best one in the reader's language by
    CROSS_MARGIN. (Always preferring the reader's language lost answers such as 苏州全市人才总量 → "3.43 million
    talents" to a sentence on the High-tech Zone's 3.6万 talents; on the calibration set, margins up to 0.02
    answer as many questions right as none, 0.05 and more fewer.) Shared with the calibration's replay.
    """
    same = next((i for i, (p, cross) in enumerate(candidates) if not cross and p >= threshold), None)
    other = next((i for i, (p, cross) in enumerate(candidates) if cross and p >= threshold), None)
    if same is None or other is None:
        return same if other is None else other
    return other if candidates[other][0] >= candidates[same][0] + CROSS_MARGIN else same


@dataclass(frozen=True)
class Evidence:
    """A retrieved sentence that carries the kind of figure asked for, and how likely it answers."""

    hit: Hit
    figure: Figure
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0


class ExtractiveAnswerer:
    """Answers by quoting the best supporting sentence; refuses when no sentence is likely enough to answer."""

    name = "offline"

    def __init__(self, index: Index, model: AnswerModel | None = None, top_k: int = 3) -> None:
        self.index = index
        self.model = model or default_model()
        self.top_k = top_k

    def answer(self, question: Question, hits: list[Hit]) -> Answer:
        """The answer to `question` from the retrieved `hits`."""
        if question.wants == "none":
            refusal = not_found(question.text, question.lang, note=NO_FIGURE_ASKED.get(question.lang))
            return replace(refusal, nearest=self.nearest(question, hits, []))
        evidence = self.evidence(question, hits)
        chosen = self._choose(evidence)
        if chosen is None or question.strangers:  # a place no article mentions: nothing to say about it
            return replace(not_found(question.text, question.lang), nearest=self.nearest(question, hits, evidence))
        best = evidence[chosen]
        # Other paragraphs that state the same figure about the same thing corroborate it ("3.43 million" is
        # given twice in one article): cite them too, up to top_k paragraphs.
        cited = [best]
        for other in evidence[1:]:
            if len(cited) >= self.top_k:
                break
            if (
                same_figure(other.figure, best.figure)
                and self._corroborates(other)
                and all(other.hit.record.paragraph_id != c.hit.record.paragraph_id for c in cited)
            ):
                cited.append(other)
        citations = [cite(number, [e.hit], self.index) for number, e in enumerate(cited, start=1)]
        markers = "".join(marker(c.number) for c in citations)
        text = f"{defuse(self.statement(question, best))} {markers}"
        return Answer(question=question.text, text=text, found=True, citations=citations, backend=self.name)

    def _choose(self, evidence: list[Evidence]) -> int | None:
        """Which candidate to quote (see `choose`); None: not found."""
        return choose([(e.probability, bool(e.features["cross"])) for e in evidence], self.model.threshold)

    def _corroborates(self, other: Evidence) -> bool:
        """Whether another sentence stating the chosen figure is likely enough to be cited beside it."""
        return other.probability >= self.model.threshold / 2

    def nearest(
        self, question: Question, hits: list[Hit], evidence: list[Evidence] | None = None, most: int = 3
    ) -> list[Citation]:
        """The passages a "not found" answer shows the reader, to judge for themselves: the paragraphs of the two
        likeliest answering sentences (quoting them), then the best retrieved paragraphs sharing a word with the
        question. A paraphrase the answerer cannot vouch for ("pool of skilled people" for "talents") or a figure
        found only across languages is usually among them. None for a question on a place no article mentions."""
        if question.strangers:
            return []
        if evidence is None:
            evidence = self.evidence(question, hits)
        # A paragraph is quoted at its likeliest answering sentence, if it has one: the sentence with the figure.
        likeliest: dict[str, Hit] = {}
        for e in evidence:
            likeliest.setdefault(e.hit.record.paragraph_id, e.hit)
        shown: list[Hit] = []
        for hit in [e.hit for e in evidence][:LIKELIEST_SHOWN] + [h for h in hits if h.keyword > 0]:
            if len(shown) < most and all(hit.record.paragraph_id != h.record.paragraph_id for h in shown):
                shown.append(likeliest.get(hit.record.paragraph_id, hit))
        return [cite(number, [hit], self.index) for number, hit in enumerate(shown, start=1)]

    def evidence(self, question: Question, hits: list[Hit]) -> list[Evidence]:
        """Every hit that could answer (right kind of figure, agrees with the question's figures), best first."""
        best_dense: dict[str, float] = {}
        for hit in hits:
            best_dense[hit.record.lang] = max(best_dense.get(hit.record.lang, 0.0), hit.dense)
        found = []
        for rank, hit in enumerate(hits):
            figures = [f for f in _figures(hit.record.text) if f.kind in WANTED[question.wants]]
            if question.wants == "count":
                figures = [f for f in figures if not f.unit]  # "how many students" is not answered in yuan
            # A figure the question itself states ("over the past ten years") is a condition, not the answer.
            figures = [f for f in figures if not any(same_figure(f, g) for g in question.figures)] or figures
            paragraph = self.index.paragraphs[hit.record.paragraph_id]
            if not figures or not all(states_figure(paragraph, f) for f in question.figures):
                continue
            features, figure = self.features(question, hit, rank, figures, best_dense)
            found.append(Evidence(hit, figure, features, self.model.probability(features)))
        return sorted(found, key=lambda e: -e.probability)

    def features(
        self, question: Question, hit: Hit, rank: int, figures: list[Figure], best_dense: Mapping[str, float]
    ) -> tuple[dict[str, float], Figure]:
        """The features of one candidate sentence, and the figure in it that best fits the question."""
        record = hit.record
        words = _with_parts(self.index.words[self.index.position[record.id]])
        context = _with_parts(self.index.context_words[record.paragraph_id])
        topics = self.index.topics.get(record.document, frozenset())
        total = covered = unknown = 0.0
        for group in _term_groups(question):
            # Jieba gives a Chinese compound with its pieces (苏州工业园区: 苏州, 工业, 园区, …): they are one word of
            # the question, credited by how much of it the sentence has.
            credits = {}
            rarity = 0.0
            for term in group:
                forms = self._forms(term, question)
                rarity = max(rarity, self._rarity(forms))
                credits[term] = self._credit(term, forms, words, topics, context)
            if (
                record.lang != question.lang
                and not any(credits.values())
                and not any(map(question.expansions.get, group))
                and question.proper.isdisjoint(group)  # a dictionary knows France: an article without it is not on it
            ):
                rarity *= UNTRANSLATED
            total += rarity
            if not any(
                form in self.index.keyword.document_frequency for term in group for form in self._forms(term, question)
            ):
                unknown += rarity
            covered += rarity * _spread(group[0], credits)
        measure = {form for term in question.measure for form in self._forms(term, question)}
        # The figure that answers stands in the clause that shares most with the question, next to its words.
        terms = set(question.terms) | measure
        # Between figures equally close to question words, the one next to the thing counted wins ("派出3个区工委
        # 巡回督导组、…派出4个督导组" for "how many supervision groups … the education work committee … send").
        scored = [
            (
                self._clause_overlap(record.text, f, question),
                self._closeness(record.text, f, terms),
                self._closeness(record.text, f, measure) if measure else 0.0,
                f,
            )
            for f in figures
        ]
        top = max(overlap for overlap, _, _, _ in scored) or 1.0
        _, closeness, _, figure = max(scored, key=lambda item: item[1] + item[0] / top + 0.5 * item[2])
        if question.wants == "amount" and any(f.unit for f in figures):
            figure = next(f for f in figures if f.unit)
        features = {
            "coverage": covered / total if total else 0.0,
            "dense": hit.dense,
            "dense_gap": hit.dense - best_dense.get(record.lang, hit.dense),
            "closeness": closeness,
            "measure_near": max((self._closeness(record.text, f, measure) for f in figures), default=0.0)
            if measure
            else 1.0,
            "measure_missing": float(bool(measure) and not measure & words),
            "name_missing": self._name_missing(question, record),
            "unknown": unknown / total if total else 0.0,
            "cross": float(record.lang != question.lang),
            "rank": 1.0 / (1 + rank),
            "money": float(question.wants == "amount" and bool(figure.unit)),
            "heading": float(record.kind != "paragraph"),
            "spelled": float(not any(ch.isdigit() for ch in figure.text)),  # "ten years" is rarely the answer
        }
        return features, figure

    def statement(self, question: Question, evidence: Evidence) -> str:
        """The answer sentence: the clause that carries the figure (verbatim), and, when the source is in the
        other language, the figure written the question's way first ("260,000 — 截至目前，…26万人。")."""
        text = evidence.hit.record.text.lstrip("■□●•· ")
        offset = len(evidence.hit.record.text) - len(text)
        clause = _clause(text, evidence.figure.start - offset, evidence.figure.end - offset)
        if evidence.hit.record.lang == question.lang:
            return clause
        figure = write_figure(evidence.figure, question.lang)
        # "44 quality projects — 医疗器械产业园落地44个优质项目": the question's own name for what is counted, when the
        # quoted figure stands right by it.
        measure = {form for term in question.measure for form in self._forms(term, question)}
        if question.counted and self._closeness(evidence.hit.record.text, evidence.figure, measure) >= 0.5:
            figure = f"{figure}{question.counted}" if question.lang == "zh" else f"{figure} {question.counted}"
        return f"{figure} — {clause}"

    def _name_missing(self, question: Question, record: Record) -> float:
        """The share of the names the question quotes that the sentence's paragraph lacks: "How much has “融医贷”
        lent?" is not answered by a paragraph on another loan. 0 for a sentence in the other language, which writes
        names its own way."""
        if not question.quoted or record.lang != question.lang:
            return 0.0
        paragraph = _bare(self.index.paragraphs[record.paragraph_id])
        return sum(_bare(name) not in paragraph for name in question.quoted) / len(question.quoted)

    def _forms(self, term: str, question: Question) -> set[str]:
        return {term, *question.expansions.get(term, ())}

    @staticmethod
    def _credit(
        term: str, forms: set[str], words: frozenset[str], topics: frozenset[str], context: frozenset[str]
    ) -> float:
        """How far one question word is met: fully in the sentence, mostly when the whole article is about it ("the
        city" is Suzhou in an article about Suzhou), half when only the paragraph or the title has it; a word met
        only through a dictionary translation counts a little less (translations are guesses). Another word of the
        same root counts almost fully ("industrial park" for 工业: industry)."""
        if forms & words:
            credit = 1.0
        elif _roots(frozenset(forms)) & _roots(words):
            credit = 0.9
        else:
            credit = 0.8 if forms & topics else 0.5 if forms & context else 0.0
        if credit and term not in words | topics | context:
            credit *= 0.8
        return credit

    def _rarity(self, forms: set[str]) -> float:
        """Inverse document frequency; a word the articles never use weighs most."""
        frequency = max(self.index.keyword.document_frequency.get(form, 0) for form in forms)
        return math.log(1.0 + (len(self.index) + 1) / (frequency + 0.5))

    def _clause_overlap(self, text: str, figure: Figure, question: Question) -> float:
        """How much of the question (by rarity) the clause around the figure shares."""
        if _listed(text, figure):
            words = _with_parts(frozenset(tokenize(_item(text, figure.start, figure.end))))
        else:
            words = _with_parts(frozenset(tokenize(_clause(text, figure.start, figure.end, always=True))))
        return sum(
            self._rarity(forms)
            for forms in (self._forms(term, question) for term, weight in question.terms.items() if weight >= 1.0)
            if forms & words
        )

    @staticmethod
    def _closeness(text: str, figure: Figure, terms: set[str]) -> float:
        """1.0 when the figure stands right by one of `terms` ("3.43 million talents", "人才26万人"), less with
        words in between ("60,000 industrial innovation talents"), 0 when none is near."""
        # English counts its noun after the figure; Chinese puts it either side ("人才26万人", "44个优质项目").
        # An English noun can also stand before its figure, across a verb ("the number of high-level talents
        # exceeds 340,000"), and English words past a clause break describe another figure ("reached 3.43
        # million, and … high-level talents").
        chinese = bool(CJK.search(text[max(0, figure.start - 2) : figure.end + 2]))
        following = text[figure.end : figure.end + 60]
        if _listed(text, figure):
            item = _item(text, figure.start, figure.end)
            start = text.index(item, max(0, figure.start - len(item)))
            following = text[figure.end : start + len(item)]
            before = tokenize(text[max(start, figure.start - 30) : figure.start])
        elif chinese:
            before = tokenize(text[max(0, figure.start - 30) : figure.start])
        else:
            cut = _CLAUSE_BREAK.search(following)
            if cut and figure.kind not in ("date", "year"):  # "In June 2021, Nawei was listed": the date's event
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
            if not terms.isdisjoint(_with_parts(word)):
                best = max(best, 1.0 / (1 + gap))
        return best


# Words that say what kind of figure is asked for, not what about: a sentence need not repeat them.
FORM_WORDS = frozenset(
    "约 占 类 自 以来 时候 一年 总 超过 总量 比例 人数 时间 数量 多 大 "
    "year month date day share proportion percentage fraction amount size big large altogether".split()
)


def _term_groups(question: Question) -> list[list[str]]:
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


def _spread(word: str, credits: Mapping[str, float]) -> float:
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


def _bare(text: str) -> str:
    """Lower case, without spaces and punctuation: how names are compared ("Gusu Talent Fund" = "gusutalentfund")."""
    return _NOT_WORD.sub("", text.lower())


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
def _with_parts(words: frozenset[str]) -> frozenset[str]:
    """Search terms with the parts of each hyphenated English word: "high-level" also meets "level" (高层次)."""
    if not any("-" in w for w in words):
        return words
    return words | {stem(part) for w in words if "-" in w for part in w.split("-") if len(part) > 1}


@lru_cache(maxsize=8192)
def _roots(words: frozenset[str]) -> frozenset[str]:
    """The Snowball roots of search terms (see `root`): "industrial" meets "industry"."""
    return frozenset(map(root, words))


@lru_cache(maxsize=65536)
def _figures(text: str) -> tuple[Figure, ...]:
    """The figures of a sentence, remembered: the same sentences come back question after question."""
    return tuple(find_figures(text))


_CLAUSE_BREAK = re.compile(r"[，；;]|,\s|:\s|：")
# "… high-level talents exceeds (more than) 340,000": the words before such a verb name what the figure counts.
_EN_VERB_BEFORE = re.compile(
    r"\s(?:exceeds?|exceeded|reach(?:es|ed)?|totals?|totalled|stands? at|stood at|is|are|was|were)"
    r"(?:\s(?:more than|over|about|nearly|around|almost|approximately))?\s*$"
)


_ITEM_BREAK = re.compile(r"[，；;、：。]")


def _listed(text: str, figure: Figure) -> bool:
    """Whether the figure is a count or share in Chinese, which names only its own list item or clause
    ("其中国家级媒体平台120篇、省级媒体平台520篇"); a date at the head of a sentence dates all of it."""
    return figure.kind in ("number", "percent") and bool(CJK.search(text[max(0, figure.start - 2) : figure.end + 2]))


def _item(text: str, start: int, end: int) -> str:
    """The list item or clause of a Chinese sentence that holds text[start:end]."""
    left = max((m.end() for m in _ITEM_BREAK.finditer(text, 0, start)), default=0)
    cut = _ITEM_BREAK.search(text, end)
    return text[left : cut.start() if cut else len(text)]


def _clause(text: str, start: int, end: int, always: bool = False) -> str:
    """The clause around text[start:end], verbatim, with the clause before it when it is short: a long
    sentence (any sentence, with `always`) is cut to the part that carries the figure."""
    chinese = bool(CJK.search(text))
    if len(text) <= (100 if chinese else 240) and not always:
        return text
    breaks = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(text)), len(text)]
    left = max(b for b in breaks if b <= start)
    right = min(b for b in breaks if b >= end)
    if right - left < (20 if chinese else 60):
        left = max((b for b in breaks if b < left), default=left)  # "在全国首推“融医贷”，已服务区内30余家…"
    clause = text[left:right].strip().rstrip("，,；;：:")
    return clause if len(clause) >= 8 else text


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
