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
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path

from rag.answer import Answer, Citation, not_found
from rag.answerers.reading import (
    about_names,
    bare_text,
    clause_of,
    closeness,
    figures_in,
    is_listed,
    item_of,
    roots_of,
    spread_credit,
    term_groups,
    with_parts,
    write_figure,
)
from rag.citations import cite, defuse, marker
from rag.figures import Figure, same_figure, states, states_figure
from rag.query import Query
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.store import Record
from rag.text import tokenize

MODEL_PATH = Path(__file__).with_name("figure_model.json")
# Set, not fitted: the public suite never asks a question answered in both languages (dev answers the same
# questions at every margin from 0 to 0.3), so it cannot choose this; a fifth of the probability scale.
CROSS_MARGIN = 0.2
# How many of an article's most used names (`Index.names`) it is taken to be about: a question's name that a
# paragraph lacks but its article is about ("Suzhou", where the sentence says "the city") is met partly.
ARTICLE_NAMES = 5
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
# Features of a figure's own place in its sentence, also compared with the sentence's other figures.
IN_SENTENCE = ("clause", "closeness", "proximity", "touch_before", "touch_after", "before", "after", "stated_near")
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
    "names_in_article",  # … that it lacks but its article is about (among its ARTICLE_NAMES most used names)
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
    "window",  # rarity-weighted share of the question's words met within WINDOW words either side of the figure
    "before",  # … of the words the question puts before its question word ("苏州人才总量是多少") met before the figure
    "after",  # … of the words it puts after ("how many people live in …") met after the figure
    "topic",  # … that the sentence meets with its article's topic words (in a tenth of its sentences: "the city")
    "proximity",  # rarity-weighted mean over the question's words of exp(-words between it and the figure / 2)
    "touch_before",  # rarity-weighted share of the question's words among the TOUCH words right before the figure
    "touch_after",  # … right after it ("critical magnetic field (25 T)", "人才总量达343万")
    "stated_near",  # exp(-words between / 3) to the nearest figure the question states ("$181,000 in 2018")
    "bracketed",  # the figure stands in brackets: a conversion or an aside ("3.7英里（约为5.95公里）")
    "kind_first",  # the figure is of the kind the question asks for first (a percent for "what percentage")
    "year_like",  # a bare number of three or four digits taken for a year: a date is asked ("founded in 1481")
    "duration_unasked",  # the figure counts time ("10 consecutive years", 三年) and the question asks no time
    "measure_modified",  # the thing counted, where it stands nearest the figure, carries a word the question lacks
    # ("340,000 high-level talents", "高层次人才3.6万" for "how many talents"): a narrower count than asked
    # How far each of these falls below the best of another figure of the same sentence: which of a sentence's
    # figures the question's words describe ("trained 240,000 cadres" rather than "held 760 classes").
    *(f"{name}_in_sentence" for name in IN_SENTENCE),
)

# Where a question word may be met: the sentence, the figure's clause, the paragraph (with its title), the sentence
# with its article's topic words, round the figure, and on either side of it.
PLACES = ("coverage", "clause", "paragraph", "topic", "window", "before", "after", "touch_before", "touch_after")
WINDOW = 6  # search terms either side of a figure that count as its neighbourhood
TOUCH = 2  # search terms either side of a figure that count as standing right by it
# Where a question asks for its figure: the words before and after it describe the figure from either side.
_ASKED = re.compile(
    r"\b(?:how (?:many|much|long|old|far|big|large|high|fast|often)|what (?:percentage|percent|share|proportion|"
    r"fraction|number|amount|year|month|date|day|age|size)|which (?:year|month|date|day)|in what year|when)\b|"
    r"多少|几|何时|什么时候|哪一?年|哪个月|哪一?天",
    re.I,
)

# A unit of time right after a figure: the figure counts time ("for 10 consecutive years", "连续三年", "20多年").
_DURATION = re.compile(
    r"\s*(?:(?:consecutive|straight|full|more|successive)\s+)?(?i:years?|months?|weeks?|days?|hours?|minutes?|"
    r"decades?|centuries)\b|[多余]?(?:个月|个星期|周年|年|周|天|小时|分钟|世纪)"
)
# A question asking for a length of time: a figure that counts time may answer it.
_TIME_ASKED = re.compile(
    r"\b(?:years?|months?|weeks?|days?|hours?|minutes?|decades?|centuries|how long)\b|年|个月|周|天|小时|分钟|多久|多长时间",
    re.I,
)


# A question asking for a length, height, depth, width, weight, speed, distance, duration or age: money never answers
# it ("How tall is the bridge?" is not "450 million euros"; no such question of the public suite is answered in money).
_MEASURE_ASKED = re.compile(
    r"\bhow (?:tall|high|deep|wide|heavy|far|fast|long|old)\b|多高|多深|多宽|多重|多远|多快|多长|多久|多大年纪", re.I
)
# A question asking for a size in one dimension or a weight ("How tall is …?", 多深): only a figure followed by a unit
# of that dimension (or storeys, for a height) answers it, not "80,000 drivers" or "12 million pounds" for "how tall".
# "How high" and "how long" are left out: they ask for grades, shares and durations too. Every such question of the
# public suite is answered with such a unit.
_SIZE_ASKED = re.compile(r"\bhow (?:tall|deep|wide|heavy)\b|\b(?:height|width|depth|weight) of\b|多深|多宽|有多重", re.I)
_LENGTH_WORDS = (
    r"(?i:m|metres?|meters?|km|kilomet(?:re|er)s?|cm|centimet(?:re|er)s?|mm|millimet(?:re|er)s?|mi|miles?|ft|foot|feet|"
    r"inch(?:es)?|yards?|yd|light[- ]years?|stor(?:e)?ys?|stories|floors?)\b|"
    r"米|公里|千米|厘米|公分|毫米|英里|英尺|英寸|公尺|码|海里|光年|层"
)
_WEIGHT_WORDS = r"(?i:kg|kilograms?|grams?|tonnes?|tons?|lbs?|pounds?|oz|ounces?)\b|吨|公斤|千克|克|斤|磅"
# A size also takes units too short or too common to name in an answer ("in", "t", "g"), and feet and inches marked
# right after the digits (5'4", 6″), not a quotation mark after a space (5,000 "action branches").
_LENGTH_UNITS = rf"{_LENGTH_WORDS}|(?i:in)\b"
_WEIGHT_UNITS = rf"{_WEIGHT_WORDS}|(?i:g|t)\b"
# The unit an answer names after its figure ("120 metres"): "in" after a number is more often "in 2019".
_SIZE_UNIT = re.compile(rf"\s*-?\s*(?:{_LENGTH_WORDS}|{_WEIGHT_WORDS})")
# A unit of time right after a figure, for the answer's headline ("约45分钟", "4 years").
_TIME_UNIT = re.compile(
    r"\s*-?\s*(?:(?i:minutes?|hours?|days?|weeks?|months?|years?|decades?)\b|个小时|小时|分钟|天|周|个月|年)"
)
_UNIT_OF = {
    "weight": re.compile(rf"\s*-?\s*(?:{_WEIGHT_UNITS})"),
    "length": re.compile(rf"\s*-?\s*(?:{_LENGTH_UNITS})|['′″\"]"),
}


def _size_asked(text: str) -> str:
    """The dimension a question asks the size of: "weight" (how heavy, 有多重), "length" (how tall, wide, deep), or ""."""
    found = _SIZE_ASKED.search(text)
    if not found:
        return ""
    return "weight" if found.group().lower() in ("how heavy", "weight of", "有多重") else "length"


def _asks_time(text: str) -> bool:
    """Whether the question asks for a length of time (or names one its figure must count)."""
    return bool(_TIME_ASKED.search(text))


# Features the confidence also reads as they are: the ranker compares one question's candidates, so what holds for
# all of them (the year the question names is in no paragraph) moves no rank but must lower the confidence.
CONFIDENCE = (
    "names_missing",
    "names_in_article",
    "paragraph",
    "cross",
    "coverage",
    "dense",
    "proximity",
    "clause",
    "measure_missing",
)


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
    trees: Sequence[Tree] = ()  # boosted regression trees added to the linear score (LightGBM's, see `Tree`)

    def score(self, features: Mapping[str, float]) -> float:
        """The candidate's rank score: the linear part, plus every tree's leaf."""
        linear = sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        if not self.trees:
            return linear
        row = [features[name] for name in FEATURES]
        return linear + sum(_leaf(tree, row) for tree in self.trees)

    def probabilities(self, candidates: Sequence[Mapping[str, float]]) -> list[float]:
        """P(answers) for each of one question's candidates, from its rank score and its softmax share."""
        scores = [self.score(f) for f in candidates]
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
        data: dict[str, object] = {"features": list(self.weights), "weights": dict(self.weights)}
        data["confidence"] = dict(self.confidence)
        data |= {"threshold": self.threshold, "fitted_on": self.fitted_on, **self.about}
        text = json.dumps(data, indent=2, ensure_ascii=False)
        if self.trees:  # one line per tree: the file stays readable above them
            trees = ",\n    ".join(json.dumps(tree, separators=(",", ":")) for tree in self.trees)
            text = text[: text.rindex("}")].rstrip() + f',\n  "trees": [\n    {trees}\n  ]\n}}'
        return text + "\n"


# A regression tree: a leaf value, or [feature index, threshold, the tree where the feature <= threshold, else].
Tree = float | list  # type: ignore[type-arg]


def _leaf(tree: Tree, row: Sequence[float]) -> float:
    """The leaf value `row` (a candidate's FEATURES, in order) falls into."""
    while isinstance(tree, list):
        tree = tree[2] if row[tree[0]] <= tree[1] else tree[3]
    return tree


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@cache
def default_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The fitted model shipped with the package (read once, on first use); a model fitted on other features fails."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if list(data["weights"]) != list(FEATURES):
        raise ValueError(f"{path} was fitted on other features than rag.answerers.figure.FEATURES: run python -m evals.fit")
    kept = ("features", "weights", "confidence", "threshold", "fitted_on", "trees")
    about = {k: v for k, v in data.items() if k not in kept}
    return AnswerModel(
        data["weights"], data["confidence"], data["threshold"], data.get("fitted_on", ""), about, data.get("trees", ())
    )


@dataclass(frozen=True)
class Evidence:
    """A candidate: a retrieved sentence, a figure in it of a wanted kind, its features and P(it answers)."""

    hit: Hit
    figure: Figure
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0


class FigureAnswerer:
    """Answers by quoting the likeliest (sentence, figure) candidate; refuses when it is not likely enough to answer."""

    name = "offline"

    def __init__(self, index: Index, model: AnswerModel | None = None, top_k: int = 3) -> None:
        self.index = index
        self.learned = model or default_model()
        self.top_k = top_k

    def run(self, query: Query, hits: list[Hit]) -> Answer:
        """The answer to the query's question from the retrieved `hits`."""
        return self.answer(query.question, hits)

    def answer(self, question: Question, hits: list[Hit]) -> Answer:
        """The answer to `question` from the retrieved `hits`."""
        if question.wants == "none":  # no figure answers "Who founded the company?": the closest passages, to judge
            return replace(not_found(question.text, question.lang), nearest=self.nearest(question, hits, []))
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
        citations = [cite(number, [e.hit], self.index.paragraphs) for number, e in enumerate(cited, start=1)]
        markers = "".join(marker(c.number) for c in citations)
        text = f"{defuse(self.statement(question, best))} {markers}"
        return Answer(
            question=question.text, text=text, found=True, citations=citations, backend=self.name, kind="figure"
        )

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
        return [cite(number, [hit], self.index.paragraphs) for number, hit in enumerate(shown, start=1)]

    def _choose(self, evidence: list[Evidence]) -> int | None:
        """The likeliest candidate when its confidence reaches the threshold; None: not found. A candidate in the
        reader's language wins over a likelier one in the other language unless that one is CROSS_MARGIN likelier:
        its words were met through dictionary translations, which are guesses, and articles in both languages on one
        story state related figures of different things (a city's talents, a district's)."""
        sure = [i for i, e in enumerate(evidence) if e.probability >= self.learned.threshold]
        if not sure:
            return None
        same = next((i for i in sure if not evidence[i].features["cross"]), None)
        if same is None or evidence[sure[0]].probability < evidence[same].probability + CROSS_MARGIN:
            return same if same is not None else sure[0]
        return sure[0]

    def _corroborates(self, other: Evidence) -> bool:
        """Whether another sentence stating the chosen figure is likely enough to be cited beside it."""
        return other.probability >= self.learned.threshold

    def evidence(self, question: Question, hits: list[Hit]) -> list[Evidence]:
        """Every candidate (sentence, figure of a wanted kind), likeliest first."""
        context = _Context.of(question, hits, self._groups(question))
        measure_asked, size_asked = bool(_MEASURE_ASKED.search(question.text)), _size_asked(question.text)
        scored = []
        for rank, hit in enumerate(hits):
            text = hit.record.text
            figures = [
                f
                for f in figures_in(text)
                if _wanted(f, question.wants)
                and not (f.unit and measure_asked)
                and not (size_asked and not _UNIT_OF[size_asked].match(text, f.end))
            ]
            # The question's own figures ("in 2019", "of the 3 districts") are conditions: a paragraph (with its
            # title) that does not state them is about something else. On the dev split, requiring them gets as
            # many questions right as weighing them, and refuses more of the unanswerable ones (82.9 vs 78.6%).
            if figures and question.figures and not self._states_conditions(question, hit.record):
                continue
            for figure in figures:
                scored.append((hit, figure, self._features(question, hit, rank, figure, figures, context)))
        best = {name: max((f[name] for _, _, f in scored), default=0.0) for name in ("clause", "paragraph")}
        sentence: dict[str, dict[str, float]] = {}
        for hit, _, features in scored:
            mine = sentence.setdefault(hit.record.id, dict.fromkeys(IN_SENTENCE, 0.0))
            for name in IN_SENTENCE:
                mine[name] = max(mine[name], features[name])
        for hit, _, features in scored:
            features["clause_gap"] = features["clause"] - best["clause"]
            features["paragraph_gap"] = features["paragraph"] - best["paragraph"]
            for name in IN_SENTENCE:
                features[f"{name}_in_sentence"] = features[name] - sentence[hit.record.id][name]
        probabilities = self.learned.probabilities([features for _, _, features in scored])
        found = [Evidence(hit, figure, f, p) for (hit, figure, f), p in zip(scored, probabilities, strict=True)]
        return sorted(found, key=lambda e: -e.probability)

    def _features(
        self, question: Question, hit: Hit, rank: int, figure: Figure, figures: list[Figure], context: _Context
    ) -> dict[str, float]:
        """The features of one candidate (see FEATURES)."""
        record = hit.record
        sentence = context.sentences.get(record.id)
        if sentence is None:  # what all the figures of one sentence share: worked out once
            words = with_parts(self.index.words[self.index.position[record.id]])
            around = {
                "coverage": words,
                "paragraph": self.index.context_words[record.paragraph_id],
                "topic": words | self.index.topics[record.document],
            }
            missing = self._names_missing(question, record)
            shares = _met(context.groups, around, context.sides)
            sentence = context.sentences[record.id] = (words, shares, missing)
        words, shared, (names_missing, names_in_article) = sentence
        left, right = (list(tokenize(part)) for part in (record.text[: figure.start], record.text[figure.end :]))
        # Each place round the figure a question word may be met; with the sentence's, paragraph's and topic's, the
        # share (by rarity) of the question's words met there.
        places = {
            "clause": frozenset(tokenize(_own_clause(record.text, figure))),
            "window": frozenset(left[-WINDOW:] + right[:WINDOW]),
            "before": frozenset(left),
            "after": frozenset(right),
            "touch_before": frozenset(left[-TOUCH:]),
            "touch_after": frozenset(right[:TOUCH]),
        }
        distance = {word: d for d, word in reversed(list(enumerate(reversed(left))))}
        for d, word in enumerate(right):
            distance[word] = min(d, distance.get(word, d))
        near = total = 0.0
        for _, forms, rarity in context.groups:
            total += rarity
            gaps = [distance[form] for f in forms.values() for form in f if form in distance]
            near += rarity * math.exp(-min(gaps) / 2) if gaps else 0.0
        shares = shared | _met(context.groups, places, context.sides)
        shares = {place: shares[place] for place in PLACES}  # in FEATURES' order: the score sums in that order
        shares["proximity"] = near / total if total else 0.0
        measure, terms = context.measure, context.terms
        paragraph = self.index.paragraphs[record.paragraph_id]
        stated = [f for f in question.figures if not same_figure(f, figure)]
        elsewhere = sum(states_figure(paragraph, f) and not states_figure(record.text, f) for f in stated)
        return {
            **shares,
            "dense": hit.dense,
            "dense_gap": hit.dense - context.best_dense.get(record.lang, hit.dense),
            "keyword": hit.keyword / context.best_keyword if context.best_keyword else 0.0,
            "rank": 1.0 / (1 + rank),
            "closeness": self._closeness(record.text, figure, terms),
            "measure_near": self._closeness(record.text, figure, measure) if measure else 0.0,
            "measure_missing": float(bool(measure) and not measure & words),
            "measure_modified": _modified(left, right, measure, context.asked),
            "figures_elsewhere": elsewhere / len(stated) if stated else 0.0,
            "names_missing": names_missing,
            "names_in_article": names_in_article,
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
            "stated_near": _stated_near(record.text, figure, question.figures),
            "bracketed": float(_bracketed(record.text, figure.start)),
            "kind_first": float(figure.kind == WANTED[question.wants][0]),
            "year_like": float(figure.kind == "number"),
            "duration_unasked": float(bool(_DURATION.match(record.text, figure.end)) and not _asks_time(question.text)),
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
        elif same and (unit := self._unit_after(question, record.text, evidence.figure)):
            figure += (" " if unit[0].isspace() else "") + " ".join(unit.split())  # "120 metres", "约45分钟"
        return f"{figure} — {sentence}"

    @staticmethod
    def _unit_after(question: Question, text: str, figure: Figure) -> str:
        """The unit right after the figure, as the sentence writes it, when the question asks a measure or a length
        of time ("120 metres" for "how tall", "45分钟" for 多久); "" otherwise."""
        if _MEASURE_ASKED.search(question.text) and (unit := _SIZE_UNIT.match(text, figure.end)):
            return unit.group()
        if _asks_time(question.text) and (unit := _TIME_UNIT.match(text, figure.end)):
            return unit.group()
        return ""

    def _states_conditions(self, question: Question, record: Record) -> bool:
        """Whether the sentence's paragraph or its article's title states every figure the question states."""
        text = record.title + " " + self.index.paragraphs[record.paragraph_id]
        return all(states_figure(text, f) for f in question.figures)

    def _names_missing(self, question: Question, record: Record) -> tuple[float, float]:
        """The share of the names the question quotes or capitalizes that the sentence's paragraph (with its title)
        lacks, and the share it lacks but its article is about (`about_names`); a name in the other language counts
        as present through its dictionary translations."""
        names = [*question.quoted, *sorted(question.proper)]
        if not names:
            return 0.0, 0.0
        paragraph = bare_text(record.title + self.index.paragraphs[record.paragraph_id])
        about = self.index.names[record.document][:ARTICLE_NAMES]
        missing = elsewhere = 0
        for name in names:
            forms = [name, *question.expansions.get(name, ())]
            if not any(bare_text(form) and bare_text(form) in paragraph for form in forms):
                missing += 1
                elsewhere += about_names(forms, about)
        return missing / len(names), elsewhere / len(names)

    def _groups(self, question: Question) -> list[_Group]:
        """The question's words (`term_groups`), each piece with its translations, and the group's rarity."""
        groups = []
        for group in term_groups(question):
            forms = {term: self._forms(term, question) for term in group}
            groups.append((group, forms, max(self._rarity(f) for f in forms.values())))
        return groups

    def _forms(self, term: str, question: Question) -> frozenset[str]:
        """A question word and its dictionary translations."""
        return frozenset((term, *question.expansions.get(term, ())))

    def _rarity(self, forms: frozenset[str]) -> float:
        """Inverse document frequency; a word the articles never use weighs most."""
        frequency = max(self.index.keyword.document_frequency.get(form, 0) for form in forms)
        return math.log(1.0 + (len(self.index) + 1) / (frequency + 0.5))

    _closeness = staticmethod(closeness)


# One word of the question: its pieces (longest first), each piece's forms (with translations), its rarity.
_Group = tuple[list[str], dict[str, frozenset[str]], float]


@dataclass(frozen=True)
class _Context:
    """What every candidate of one question is measured against (the best dense score per language, the best
    keyword score), the question's words as the features read them, and what each sentence's figures share."""

    best_dense: Mapping[str, float]
    best_keyword: float
    groups: Sequence[_Group]
    sides: Mapping[str, str]  # which side of the question word each word stands on (`_sides`)
    measure: frozenset[str]  # the thing counted, with its translations
    terms: frozenset[str]  # the question's search terms and the thing counted
    asked: frozenset[str]  # the question's search terms
    # Per sentence: its words (with parts), the shares of the question met by it, its paragraph and its topic, and
    # the shares of the question's names its paragraph lacks, and lacks but its article is about.
    sentences: dict[str, tuple[frozenset[str], dict[str, float], tuple[float, float]]] = field(default_factory=dict)

    @classmethod
    def of(cls, question: Question, hits: Sequence[Hit], groups: Sequence[_Group]) -> _Context:
        best: dict[str, float] = {}
        for hit in hits:
            best[hit.record.lang] = max(best.get(hit.record.lang, 0.0), hit.dense)
        measure = frozenset(f for term in question.measure for f in {term, *question.expansions.get(term, ())})
        return cls(
            best,
            max((hit.keyword for hit in hits), default=0.0),
            groups,
            _sides(question),
            measure,
            frozenset(question.terms) | measure,
            frozenset(question.terms),
        )


def _met(groups: Sequence[_Group], places: Mapping[str, frozenset[str]], sides: Mapping[str, str]) -> dict[str, float]:
    """Per place, the share (by rarity) of the question's words its words meet; "before" and "after" weigh only the
    words the question puts on that side of its question word."""
    places = {place: with_parts(found) for place, found in places.items()}
    met = dict.fromkeys(places, 0.0)
    weight = dict.fromkeys(places, 0.0)
    for group, forms, rarity in groups:
        every = _every_form(tuple(forms.values()))
        for place, found in places.items():
            if place in ("before", "after") and sides.get(group[0]) != place:
                continue  # only the words the question puts on that side of its question word
            weight[place] += rarity
            if every.isdisjoint(found) and roots_of(every).isdisjoint(roots_of(found)):
                continue  # no piece of the word is met there, neither as written nor by its root: no credit
            met[place] += rarity * spread_credit(group[0], {t: _credit(t, forms[t], found) for t in group})
    return {place: met[place] / weight[place] if weight[place] else 0.0 for place in places}


@lru_cache(maxsize=4096)
def _every_form(forms: tuple[frozenset[str], ...]) -> frozenset[str]:
    """Every form of every piece of a question word: where none is met, no piece is."""
    return frozenset().union(*forms)


def _wanted(figure: Figure, wants: str) -> bool:
    """Whether the figure is of a kind that answers the question. Years before 1000, and before 1900 without 年,
    are read as numbers (a count is likelier in general): when a date is asked, such a number may be the year
    (on the dev split, 56 of the 94 answerable questions with no right candidate asked the year of a bare number)."""
    if figure.kind in WANTED[wants]:
        return True
    digits = figure.text.removesuffix("年")
    return (
        wants == "date" and figure.kind == "number" and not figure.unit and digits.isdigit() and len(digits) in (3, 4)
    )


# Words naming a quantity itself ("the total number of talents", 人才总量): no narrower kind of the thing counted.
_QUANTITY = frozenset("number total amount count sum figure 总量 总数 数量 总计 总额 总和 规模 人数 数目".split())


def _modified(left: Sequence[str], right: Sequence[str], measure: AbstractSet[str], asked: AbstractSet[str]) -> float:
    """1.0 when the occurrence of the thing counted nearest the figure has, right before it, a word the question
    does not ask ("global high-end talents"); 0.0 when it has none, or the sentence does not name it."""
    if not measure:
        return 0.0
    # Terms outward from the figure, alternately after and before it, each with the term before it in reading
    # order: "" when that is the figure itself, "-" at the start of the sentence.
    after = [(right[i], right[i - 1] if i else "") for i in range(len(right))]
    before = [(left[i], left[i - 1] if i else "-") for i in range(len(left) - 1, -1, -1)]
    outward = [pair for i in range(max(len(after), len(before))) for pair in (after[i : i + 1] + before[i : i + 1])]
    for term, previous in outward:
        if term in measure:
            unasked = previous not in asked and previous not in measure and previous not in _QUANTITY
            return float(previous not in ("", "-") and unasked)
    return 0.0


def _stated_near(text: str, figure: Figure, stated: Sequence[Figure]) -> float:
    """exp(-search terms between / 3) from the figure to the nearest of the question's own figures in the text."""
    gaps = [
        len(tokenize(text[min(figure.end, other.end) : max(figure.start, other.start)]))
        for other in figures_in(text)
        if other.start != figure.start and any(states(other, f) for f in stated)
    ]
    return math.exp(-min(gaps) / 3) if gaps else 0.0


def _bracketed(text: str, start: int) -> bool:
    """Whether text[start] stands inside brackets."""
    before = text[:start]
    return max(before.rfind("("), before.rfind("（")) > max(before.rfind(")"), before.rfind("）"))


def _sides(question: Question) -> Mapping[str, str]:
    """Which side of the question word ("多少", "how many") each of the question's own words stands on."""
    return _sides_of(question.text, tuple(question.terms))


@lru_cache(maxsize=4096)
def _sides_of(text: str, terms: tuple[str, ...]) -> Mapping[str, str]:
    asked = _ASKED.search(text)
    if asked is None:
        return {}
    before, after = set(tokenize(text[: asked.start()])), set(tokenize(text[asked.end() :]))
    return {term: "before" if term in before else "after" for term in terms if term in before | after}


@lru_cache(maxsize=65536)  # the same question words meet the same sentences' words clause after clause
def _credit(term: str, forms: frozenset[str], words: frozenset[str]) -> float:
    """How far one question word is met by `words`: fully as written, 0.8 through a translation (a guess), 0.9 by
    another word of the same root ("industrial" for "industry")."""
    if forms & words:
        return 1.0 if term in words else 0.8
    return 0.9 if roots_of(forms) & roots_of(words) else 0.0


def _own_clause(text: str, figure: Figure) -> str:
    """The clause or list item that holds the figure."""
    if is_listed(text, figure):
        return item_of(text, figure.start, figure.end)
    return clause_of(text, figure.start, figure.end)
