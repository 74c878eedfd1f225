"""The offline answerer: quotes the sentence that carries the asked figure, or says the articles do not say.

Every (retrieved sentence, figure in it) pair of the kind asked for is a candidate, described by general
features: how similar e5 finds question and sentence, how much of the question (by rarity, through dictionary
translations across languages) the sentence, the figure's own clause and the paragraph cover, how close the figure
stands to the question's words and to the thing counted, whether the year, place and name the question states
hold, whether the figure fits the kind asked for. A logistic model fitted on the public development data
(`python -m evals.fit`, see docs/answerer.md) ranks them: a linear score, trained so that the right pair of a
question comes first among its pairs (a softmax over them). A small logistic confidence over the best pair's
score and softmax share gives the probability that it answers; it is quoted when that probability clears the
model's threshold, chosen on the dev split, otherwise the answer is "not found". No feature names a word of a
particular article.
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
from rag.corpus import CJK
from rag.figures import Figure, find_figures, same_figure, states_figure
from rag.keyword import root, stem, tokenize
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.store import Record

MODEL_PATH = Path(__file__).with_name("answer_model.json")
LIKELIEST_SHOWN = 2  # answering sentences a refusal shows among its nearest passages, before retrieval's best
# The figure kinds that answer each kind of question.
WANTED = {
    "count": ("number",),
    "amount": ("number",),
    "date": ("date", "year", "decade"),
    "percent": ("percent", "points", "fraction"),
    "any": ("number", "percent", "date", "year", "points", "fraction", "decade"),
    "none": (),
    "comparison": (),
}
# Said instead of "not found" to a question no figure answers ("Who founded the company?"): the articles may well say.
NO_FIGURE_ASKED = {
    "en": "The offline answerer finds figures: how many, how much, when, what share. Ask for one, or set "
    "RAG_LLM=openai to have a language model answer other questions.",
    "zh": "离线模式只回答数字类问题：多少、几、何时、比例。请换成问数字的问法，或设置 RAG_LLM=openai 由语言模型回答其他问题。",
}
_NOT_WORD = re.compile(r"[\W_]+")
# Words that may stand between a figure and the noun it counts without being a noun themselves: classifiers and
# units ("44个项目", "300亿元"), qualifiers, "of".
_FILLER = frozenset("个 家 项 名 人 人次 元 亿元 万元 余 多 超 近 约 of".split())
FEATURES = (
    "coverage",  # rarity-weighted share of the question's words the sentence meets (translations, roots count)
    "clause",  # … that the figure's own clause (or list item) meets
    "paragraph",  # … that the sentence's paragraph and article title meet
    "dense",  # e5 cosine of question and sentence
    "dense_gap",  # how far below the best sentence of its language
    "keyword",  # BM25 score, as a share of the best retrieved
    "rank",  # 1 / (1 + fused retrieval rank)
    "closeness",  # 1 / (1 + words between the figure and the nearest question word)
    "measure_near",  # the same, for the thing counted ("how many hospitals")
    "measure_missing",  # the thing counted is not in the sentence
    "figures_elsewhere",  # … stated in the paragraph but not in the sentence
    "names_missing",  # share of the question's names (capitalized, quoted) its paragraph lacks
    "restated",  # the figure is one the question itself states ("in 2019")
    "cross",  # the sentence is in the other language
    "money",  # an amount of money asked for and the figure carries a currency
    "unit_unasked",  # a count asked for and the figure is money
    "year",  # the figure's kind, for the kind priors
    "date",
    "percent",
    "spelled",  # written in words, no digits ("ten years")
    "crowded",  # 1 - 1/figures of the wanted kind in the sentence: several candidates compete
    "heading",  # a heading or caption, not running text
    "clause_gap",  # how far the clause's coverage falls below the best candidate's of this question
    "paragraph_gap",  # the same, for the paragraph's
    "clause_in_sentence",  # how far its clause's coverage falls below that of another figure of the same sentence
    "closeness_in_sentence",  # the same, for its closeness to the question's words
)

# Features the confidence also reads as they are: the ranker compares one question's candidates, so what holds for
# all of them (the year the question names is in no paragraph) moves no rank but must lower the confidence.
CONFIDENCE = ("names_missing", "paragraph", "cross")


@dataclass(frozen=True)
class AnswerModel:
    """A ranker (weights over FEATURES) that orders one question's candidates, and a confidence over the best
    candidate's rank score and its share of the softmax over all of them: P(it answers the question). The best
    candidate is quoted when that probability reaches `threshold`."""

    weights: Mapping[str, float]
    confidence: Mapping[str, float]  # logistic weights of "score", "share", the CONFIDENCE features, and "bias"
    threshold: float
    fitted_on: str = ""
    about: Mapping[str, object] = field(default_factory=dict)

    def probabilities(self, candidates: Sequence[Mapping[str, float]]) -> list[float]:
        """P(answers) for each of one question's candidates, from its rank score and its softmax share."""
        scores = [sum(self.weights.get(name, 0.0) * value for name, value in f.items()) for f in candidates]
        top = max(scores, default=0.0)
        total = sum(math.exp(score - top) for score in scores)
        c = self.confidence
        return [
            _sigmoid(
                c["score"] * score
                + c["share"] * math.exp(score - top) / total
                + sum(c[name] * f[name] for name in CONFIDENCE)
                + c["bias"]
            )
            for score, f in zip(scores, candidates, strict=True)
        ]

    def to_json(self) -> str:
        """The model as JSON, for `answer_model.json`."""
        data = {"features": list(self.weights), "weights": dict(self.weights), "confidence": dict(self.confidence)}
        data |= {"threshold": self.threshold, "fitted_on": self.fitted_on, **self.about}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@cache
def default_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The fitted model shipped with the package (read once, on first use); a model fitted on other features fails."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if list(data["weights"]) != list(FEATURES):
        raise ValueError(f"{path} was fitted on other features than rag.extractive.FEATURES: run python -m evals.fit")
    about = {k: v for k, v in data.items() if k not in ("features", "weights", "confidence", "threshold", "fitted_on")}
    return AnswerModel(data["weights"], data["confidence"], data["threshold"], data.get("fitted_on", ""), about)


@dataclass(frozen=True)
class Evidence:
    """A candidate: a retrieved sentence, the figure in it, its features, and how likely it answers."""

    hit: Hit
    figure: Figure
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0


class ExtractiveAnswerer:
    """Answers by quoting the likeliest supporting sentence; refuses when none is likely enough to answer."""

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
        if not evidence or evidence[0].probability < self.model.threshold or question.strangers:
            return replace(not_found(question.text, question.lang), nearest=self.nearest(question, hits, evidence))
        best = evidence[0]
        # Other paragraphs that state the same figure about the same thing corroborate it: cite them too.
        cited = [best]
        for other in evidence[1:]:
            if len(cited) >= self.top_k:
                break
            if (
                same_figure(other.figure, best.figure)
                and other.probability >= self.model.threshold
                and all(other.hit.record.paragraph_id != c.hit.record.paragraph_id for c in cited)
            ):
                cited.append(other)
        citations = [cite(number, [e.hit], self.index) for number, e in enumerate(cited, start=1)]
        markers = "".join(marker(c.number) for c in citations)
        text = f"{defuse(self.statement(question, best))} {markers}"
        return Answer(question=question.text, text=text, found=True, citations=citations, backend=self.name)

    def nearest(
        self, question: Question, hits: list[Hit], evidence: list[Evidence] | None = None, most: int = 3
    ) -> list[Citation]:
        """The passages a "not found" answer shows the reader, to judge for themselves: the paragraphs of the two
        likeliest candidates (quoting them), then the best retrieved paragraphs sharing a word with the question.
        None for a question on a place no article mentions."""
        if question.strangers:
            return []
        if evidence is None:
            evidence = self.evidence(question, hits)
        likeliest: dict[str, Hit] = {}
        for e in evidence:
            likeliest.setdefault(e.hit.record.paragraph_id, e.hit)
        shown: list[Hit] = []
        for hit in [e.hit for e in evidence][:LIKELIEST_SHOWN] + [h for h in hits if h.keyword > 0]:
            if len(shown) < most and all(hit.record.paragraph_id != h.record.paragraph_id for h in shown):
                shown.append(likeliest.get(hit.record.paragraph_id, hit))
        return [cite(number, [hit], self.index) for number, hit in enumerate(shown, start=1)]

    def evidence(self, question: Question, hits: list[Hit]) -> list[Evidence]:
        """Every candidate (sentence, figure of a wanted kind), likeliest first."""
        context = _Context.of(question, hits)
        scored = []
        for rank, hit in enumerate(hits):
            figures = [f for f in _figures(hit.record.text) if f.kind in WANTED[question.wants]]
            # The question's own figures ("in 2019", "of the 3 districts") are conditions: a paragraph (with its
            # title) that does not state them is about something else. On the dev split, requiring them gets as
            # many questions right as weighing them, and refuses more of the unanswerable ones (82.9 vs 78.6%).
            if figures and question.figures and not self._states_conditions(question, hit.record):
                continue
            for figure in figures:
                scored.append((hit, figure, self.features(question, hit, rank, figure, figures, context)))
        best = {name: max((f[name] for _, _, f in scored), default=0.0) for name in ("clause", "paragraph")}
        # Within one sentence, the figure whose own clause holds the question's words answers it ("trained 240,000
        # cadres" rather than "held 760 classes" for how many cadres were trained).
        sentence: dict[str, dict[str, float]] = {}
        for hit, _, features in scored:
            mine = sentence.setdefault(hit.record.id, {"clause": 0.0, "closeness": 0.0})
            for name in mine:
                mine[name] = max(mine[name], features[name])
        for hit, _, features in scored:
            features["clause_gap"] = features["clause"] - best["clause"]
            features["paragraph_gap"] = features["paragraph"] - best["paragraph"]
            features["clause_in_sentence"] = features["clause"] - sentence[hit.record.id]["clause"]
            features["closeness_in_sentence"] = features["closeness"] - sentence[hit.record.id]["closeness"]
        probabilities = self.model.probabilities([features for _, _, features in scored])
        found = [Evidence(hit, figure, f, p) for (hit, figure, f), p in zip(scored, probabilities, strict=True)]
        return sorted(found, key=lambda e: -e.probability)

    def features(
        self, question: Question, hit: Hit, rank: int, figure: Figure, figures: list[Figure], context: _Context
    ) -> dict[str, float]:
        """The features of one candidate (see FEATURES)."""
        record = hit.record
        words = _with_parts(self.index.words[self.index.position[record.id]])
        paragraph_words = _with_parts(self.index.context_words[record.paragraph_id])
        clause_words = _with_parts(frozenset(tokenize(_own_clause(record.text, figure))))
        total = covered = in_clause = in_paragraph = 0.0
        for group in _term_groups(question):
            credits = {}
            rarity = 0.0
            for term in group:
                forms = self._forms(term, question)
                rarity = max(rarity, self._rarity(forms))
                credits[term] = (
                    _credit(term, forms, words),
                    _credit(term, forms, clause_words),
                    _credit(term, forms, paragraph_words),
                )
            total += rarity
            covered += rarity * _spread(group[0], {t: c[0] for t, c in credits.items()})
            in_clause += rarity * _spread(group[0], {t: c[1] for t, c in credits.items()})
            in_paragraph += rarity * _spread(group[0], {t: c[2] for t, c in credits.items()})
        measure = {form for term in question.measure for form in self._forms(term, question)}
        terms = set(question.terms) | measure
        paragraph = self.index.paragraphs[record.paragraph_id]
        stated = [f for f in question.figures if not same_figure(f, figure)]
        elsewhere = sum(states_figure(paragraph, f) and not states_figure(record.text, f) for f in stated)
        return {
            "coverage": covered / total if total else 0.0,
            "clause": in_clause / total if total else 0.0,
            "paragraph": in_paragraph / total if total else 0.0,
            "dense": hit.dense,
            "dense_gap": hit.dense - context.best_dense.get(record.lang, hit.dense),
            "keyword": hit.keyword / context.best_keyword if context.best_keyword else 0.0,
            "rank": 1.0 / (1 + rank),
            "closeness": self._closeness(record.text, figure, terms),
            "measure_near": self._closeness(record.text, figure, measure) if measure else 0.0,
            "measure_missing": float(bool(measure) and not measure & words),
            "figures_elsewhere": elsewhere / len(stated) if stated else 0.0,
            "names_missing": self._names_missing(question, record),
            "restated": float(any(same_figure(figure, f) for f in question.figures)),
            "cross": float(record.lang != question.lang),
            "money": float(question.wants == "amount" and bool(figure.unit)),
            "unit_unasked": float(question.wants == "count" and bool(figure.unit)),
            "year": float(figure.kind == "year"),
            "date": float(figure.kind == "date"),
            "percent": float(figure.kind == "percent"),
            "spelled": float(not any(ch.isdigit() for ch in figure.text)),
            "crowded": 1.0 - 1.0 / len(figures),
            "heading": float(record.kind != "paragraph"),
        }

    def statement(self, question: Question, evidence: Evidence) -> str:
        """The answer: the figure and what it counts, in the question's language where it can be written so, then
        the whole sentence, verbatim ("2.5 million visitors — …")."""
        record = evidence.hit.record
        sentence = record.text.strip()
        same = record.lang == question.lang
        figure = evidence.figure.text if same else write_figure(evidence.figure, question.lang)
        measure = {form for term in question.measure for form in self._forms(term, question)}
        if question.counted and self._closeness(record.text, evidence.figure, measure) >= 0.5:
            figure = f"{figure}{question.counted}" if question.lang == "zh" else f"{figure} {question.counted}"
        return f"{figure} — {sentence}"

    def _states_conditions(self, question: Question, record: Record) -> bool:
        """Whether the sentence's paragraph or its article's title states every figure the question states."""
        text = record.title + " " + self.index.paragraphs[record.paragraph_id]
        return all(states_figure(text, f) for f in question.figures)

    def _names_missing(self, question: Question, record: Record) -> float:
        """The share of the names the question quotes or capitalizes that the sentence's paragraph (with its title)
        lacks; a name in the other language counts as present through its dictionary translations."""
        names = [*question.quoted, *sorted(question.proper)]
        if not names:
            return 0.0
        paragraph = _bare(record.title + self.index.paragraphs[record.paragraph_id])
        missing = 0
        for name in names:
            forms = [name, *question.expansions.get(name, ())]
            if not any(_bare(form) and _bare(form) in paragraph for form in forms):
                missing += 1
        return missing / len(names)

    def _forms(self, term: str, question: Question) -> set[str]:
        return {term, *question.expansions.get(term, ())}

    def _rarity(self, forms: set[str]) -> float:
        """Inverse document frequency; a word the articles never use weighs most."""
        frequency = max(self.index.keyword.document_frequency.get(form, 0) for form in forms)
        return math.log(1.0 + (len(self.index) + 1) / (frequency + 0.5))

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
            if cut and figure.kind not in ("date", "year"):  # "In June 2021, the firm was listed": the date's event
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



@dataclass(frozen=True)
class _Context:
    """What every candidate of one question is measured against: the best dense score per language, the best
    keyword score."""

    best_dense: Mapping[str, float]
    best_keyword: float

    @classmethod
    def of(cls, question: Question, hits: Sequence[Hit]) -> _Context:
        best: dict[str, float] = {}
        for hit in hits:
            best[hit.record.lang] = max(best.get(hit.record.lang, 0.0), hit.dense)
        return cls(best, max((hit.keyword for hit in hits), default=0.0))


def _credit(term: str, forms: set[str], words: frozenset[str]) -> float:
    """How far one question word is met by `words`: fully as written, 0.8 through a translation (a guess), 0.9 by
    another word of the same root ("industrial" for "industry")."""
    if forms & words:
        return 1.0 if term in words else 0.8
    return 0.9 if _roots(frozenset(forms)) & _roots(words) else 0.0


def _own_clause(text: str, figure: Figure) -> str:
    """The clause or list item that holds the figure."""
    if _listed(text, figure):
        return _item(text, figure.start, figure.end)
    return _clause(text, figure.start, figure.end, always=True)


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
        left = max((b for b in breaks if b < left), default=left)  # a short clause needs the one before it
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
