"""The offline fact answerer: quotes the sentence that answers a who / what / which / where / why / how question.

Every retrieved sentence is a candidate (with the sentence before it when it cannot stand alone: it opens with a
pronoun or a demonstrative, "He", "This", "其中", "该"), described by general features: e5 similarity, how much
of the question (by rarity, through dictionary translations across languages) the sentence, its paragraph, its
article's title and topic words cover, whether the question's words are met near each other, whether the names
the question states hold, retrieval rank and keyword score. A model fitted on the public development data
(`python -m evals.fit_fact`, see docs/answerer.md) ranks them with a linear score (a softmax over one question's
candidates) and gives the best one's probability of answering from a small logistic confidence; it is quoted when
that probability reaches the model's threshold, chosen on the dev split, otherwise the answer is "not found". No
feature names a word of a particular article.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from rag.answer import Answer, Citation, not_found
from rag.answerers.reading import bare_text, roots_of, spread_credit, term_groups, with_parts
from rag.citations import cite, defuse, marker
from rag.figures import states_figure
from rag.query import Query
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.text import CJK, tokenize

MODEL_PATH = Path(__file__).with_name("fact_model.json")
LIKELIEST_SHOWN = 2  # likeliest sentences a refusal shows among its nearest passages, before retrieval's best
NEAR = 8  # search terms: the span in which the question's words count as met near each other

FEATURES = (
    "coverage",  # rarity-weighted share of the question's words the sentence meets (translations, roots count)
    "carried",  # … that the sentence with the one it carries meets (the same when it carries none)
    "paragraph",  # … that the sentence's paragraph and article title meet
    "topic",  # … that the sentence meets with its article's topic words (in a tenth of its sentences)
    "title",  # … that its article's title meets
    "near",  # … met within NEAR search terms of each other in the sentence (the best such span)
    "rarest",  # the question's rarest word is met by the sentence
    "dense",  # e5 cosine of question and sentence
    "dense_gap",  # how far below the best sentence of its language
    "keyword",  # BM25 score, as a share of the best retrieved
    "rank",  # 1 / (1 + fused retrieval rank)
    "names_sentence",  # share of the question's names (capitalized, quoted) the sentence lacks
    "names_paragraph",  # … its paragraph (with its title) lacks
    "cross",  # the sentence is in the other language
    "length",  # log(1 + search terms of the sentence)
    "novel",  # share of the sentence's search terms the question does not use: what the answer adds
    "opens_paragraph",  # the paragraph's first sentence
    "dependent",  # opens with a pronoun or demonstrative, so it carries the sentence before it
    "heading",  # a heading or caption, not running text
    "typed",  # a span of the kind asked is found (a name new to the question for "who", "where", "which")
)
# Features the confidence also reads as they are: what holds for all of one question's candidates (no paragraph
# names the place asked about) moves no rank but must lower the confidence.
CONFIDENCE = ("names_paragraph", "paragraph", "coverage", "near", "dense", "cross", "rarest")

# Grammar words that open a sentence which cannot stand alone: what it refers to is in the sentence before.
_DEPENDENT = re.compile(
    r"^\W*(?:(?:he|she|it|they|this|that|these|those|his|her|its|their|such|there|then|however|also|both|"
    r"the latter|the former)\b|(?:其中|该|这|此|他|她|它|其|那|上述|同时|另外|此外|而且|但|并))",
    re.I,
)
# A name in an English sentence: capitalized words (with "of", "de" … between) not at its start.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'-]*(?:\s+(?:of|de|du|von|van|the)?\s*[A-Z][\w'-]*)*")
# Questions whose answer is a name: who, where, which (person, place, thing).
_ASKS_NAME = re.compile(r"^\W*(?:who|whom|whose|where|which)\b|\b(?:who|whom|which)\b", re.I)


@dataclass(frozen=True)
class FactModel:
    """A ranker (weights over FEATURES) that orders one question's candidate sentences, and a confidence over the
    best candidate's rank score, its softmax share and the CONFIDENCE features: P(it answers). The best candidate
    is quoted when that probability reaches `threshold`."""

    weights: Mapping[str, float]
    confidence: Mapping[str, float]  # logistic weights of "score", "share", the CONFIDENCE features, and "bias"
    threshold: float
    fitted_on: str = ""
    about: Mapping[str, object] = field(default_factory=dict)

    def score(self, features: Mapping[str, float]) -> float:
        """The candidate's rank score."""
        return sum(self.weights.get(name, 0.0) * value for name, value in features.items())

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
        """The model as JSON, for `fact_model.json`."""
        data: dict[str, object] = {"features": list(self.weights), "weights": dict(self.weights)}
        data |= {"confidence": dict(self.confidence), "threshold": self.threshold, "fitted_on": self.fitted_on}
        return json.dumps(data | dict(self.about), indent=2, ensure_ascii=False) + "\n"


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@cache
def default_model(path: Path = MODEL_PATH) -> FactModel:
    """The fitted model shipped with the package (read once); a model fitted on other features fails loudly."""
    return read_model(path)


def read_model(path: Path) -> FactModel:
    """A model file; ValueError when it was fitted on other features than FEATURES."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if list(data["weights"]) != list(FEATURES) or list(data.get("features", FEATURES)) != list(FEATURES):
        raise ValueError(
            f"{path} was fitted on other features than rag.answerers.fact.FEATURES: run python -m evals.fit_fact"
        )
    kept = ("features", "weights", "confidence", "threshold", "fitted_on")
    about = {k: v for k, v in data.items() if k not in kept}
    return FactModel(data["weights"], data["confidence"], data["threshold"], data.get("fitted_on", ""), about)


@dataclass(frozen=True)
class Candidate:
    """A retrieved sentence (with the one before it when it cannot stand alone), its features and P(it answers)."""

    hit: Hit
    carried: Hit | None = None  # the sentence before, quoted with it
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0

    @property
    def hits(self) -> list[Hit]:
        """The sentences quoted, in reading order."""
        return [self.carried, self.hit] if self.carried is not None else [self.hit]

    @property
    def text(self) -> str:
        """What the candidate quotes."""
        return " ".join(h.record.text.strip() for h in self.hits)


# One word of the question: its pieces (longest first), each piece's forms (with translations), its rarity.
Group = tuple[list[str], dict[str, set[str]], float]
# One word's forms, and those of them met inside a longer Chinese word.
Forms = tuple[frozenset[str], tuple[str, ...]]


class FactAnswerer:
    """Answers by quoting the likeliest sentence; refuses when it is not likely enough to answer."""

    name = "offline"

    def __init__(self, index: Index, model: FactModel | None = None, top_k: int = 3) -> None:
        self.index = index
        self.learned = model or default_model()
        self.top_k = top_k

    def run(self, query: Query, hits: list[Hit]) -> Answer:
        """The answer to the query's question from the retrieved `hits`."""
        return self.answer(query.question, hits)

    def answer(self, question: Question, hits: list[Hit]) -> Answer:
        """The answer to `question` from the retrieved `hits`."""
        candidates = self.candidates(question, hits)
        best = candidates[0] if candidates else None
        if best is None or best.probability < self.learned.threshold or question.strangers:
            return replace(not_found(question.text, question.lang), nearest=self.nearest(question, hits, candidates))
        citation = cite(1, best.hits, self.index.paragraphs)
        text = f"{defuse(self.statement(question, best))} {marker(1)}"
        return Answer(
            question=question.text, text=text, found=True, citations=[citation], backend=self.name, kind="fact"
        )

    def statement(self, question: Question, candidate: Candidate) -> str:
        """The quoted sentence(s), verbatim, led by the asked name when a general rule finds one ("Wang Wei — …")."""
        quote = cite(1, candidate.hits, self.index.paragraphs).quote.strip()
        span = asked_span(question, candidate.hit.record.text)
        return f"{span} — {quote}" if span else quote

    def nearest(
        self, question: Question, hits: list[Hit], candidates: list[Candidate] | None = None, most: int = 3
    ) -> list[Citation]:
        """The passages a "not found" answer shows the reader: the paragraphs of the two likeliest sentences, then
        the best retrieved paragraphs sharing a word with the question. None for a name no article mentions."""
        if question.strangers:
            return []
        if candidates is None:
            candidates = self.candidates(question, hits)
        shown: list[Hit] = []
        for hit in [c.hit for c in candidates][:LIKELIEST_SHOWN] + [h for h in hits if h.keyword > 0]:
            if len(shown) < most and all(hit.record.paragraph_id != h.record.paragraph_id for h in shown):
                shown.append(hit)
        return [cite(number, [hit], self.index.paragraphs) for number, hit in enumerate(shown, start=1)]

    def candidates(self, question: Question, hits: list[Hit]) -> list[Candidate]:
        """Every retrieved sentence as a candidate, likeliest first."""
        if not hits:
            return []
        groups = self._groups(question)
        best_dense: dict[str, float] = {}
        for hit in hits:
            best_dense[hit.record.lang] = max(best_dense.get(hit.record.lang, 0.0), hit.dense)
        best_keyword = max(hit.keyword for hit in hits)
        asked = {form for _, forms, _ in groups for f in forms.values() for form in f}
        rarest = max(groups, key=lambda g: g[2]) if groups else None
        spans = _spans(groups)
        found = []
        seen: set[str] = set()
        for rank, hit in enumerate(hits):
            if hit.record.id in seen or not self._states_conditions(question, hit):
                continue
            seen.add(hit.record.id)
            carried = self._carried(hit)
            f = self._features(question, hit, carried, rank, groups, asked, rarest, spans)
            f["dense_gap"] = hit.dense - best_dense.get(hit.record.lang, hit.dense)
            f["keyword"] = hit.keyword / best_keyword if best_keyword else 0.0
            found.append(Candidate(hit, carried, f))
        probabilities = self.learned.probabilities([c.features for c in found])
        scored = [replace(c, probability=p) for c, p in zip(found, probabilities, strict=True)]
        return sorted(scored, key=lambda c: -c.probability)

    def _states_conditions(self, question: Question, hit: Hit) -> bool:
        """Whether the sentence's paragraph or its article's title states every time the question states ("in
        1998", "2021年"): a paragraph without it is about something else, as for the figure answerer. A count is
        no condition here: "which two cities" describes the answer, which may name them without the number."""
        times = [f for f in question.figures if f.kind in ("year", "date", "decade")]
        if not times:
            return True
        text = hit.record.title + " " + self.index.paragraphs[hit.record.paragraph_id]
        return all(states_figure(text, f) for f in times)

    def _carried(self, hit: Hit) -> Hit | None:
        """The sentence before, in the same paragraph, when this one opens with a word that refers back to it."""
        record = hit.record
        if not _DEPENDENT.match(record.text):
            return None
        position = self.index.position[record.id]
        if position == 0:
            return None
        before = self.index.records[position - 1]
        if before.paragraph_id != record.paragraph_id:
            return None
        return Hit(before, hit.score, hit.dense, hit.keyword)

    def _features(
        self,
        question: Question,
        hit: Hit,
        carried: Hit | None,
        rank: int,
        groups: Sequence[Group],
        asked: set[str],
        rarest: Group | None,
        spans: Sequence[Forms],
    ) -> dict[str, float]:
        """The features of one candidate (see FEATURES; dense_gap and keyword are set by `candidates`)."""
        record = hit.record
        words = with_parts(self.index.words[self.index.position[record.id]])
        carried_words = (
            words | with_parts(self.index.words[self.index.position[carried.record.id]]) if carried else words
        )
        title = frozenset(tokenize(record.title))
        places = {
            "coverage": words,
            "carried": carried_words,
            "paragraph": self.index.context_words[record.paragraph_id],
            "topic": words | self.index.topics[record.document],
            "title": title,
        }
        shares = met(groups, places)
        terms = tokenize(record.text)
        novel = [t for t in terms if t not in asked]
        paragraph = self.index.paragraphs[record.paragraph_id]
        return {
            **shares,
            "near": _near(groups, spans, terms),
            "rarest": met([rarest], {"s": words})["s"] if rarest else 0.0,
            "dense": hit.dense,
            "dense_gap": 0.0,
            "keyword": 0.0,
            "rank": 1.0 / (1 + rank),
            "names_sentence": names_missing(question, record.text),
            "names_paragraph": names_missing(question, record.title + paragraph),
            "cross": float(record.lang != question.lang),
            "length": math.log1p(len(terms)),
            "novel": len(novel) / len(terms) if terms else 0.0,
            "opens_paragraph": float(record.start == 0),
            "dependent": float(carried is not None),
            "heading": float(record.kind != "paragraph"),
            "typed": float(bool(asked_span(question, record.text))),
        }

    def _groups(self, question: Question) -> list[Group]:
        """The question's words (`term_groups`), each piece with its translations, and the group's rarity."""
        groups = []
        for group in term_groups(question):
            forms = {term: {term, *question.expansions.get(term, ())} for term in group}
            groups.append((group, forms, max(self._rarity(f) for f in forms.values())))
        return groups

    def _rarity(self, forms: set[str]) -> float:
        """Inverse document frequency; a word the articles never use weighs most."""
        frequency = max(self.index.keyword.document_frequency.get(form, 0) for form in forms)
        return math.log(1.0 + (len(self.index) + 1) / (frequency + 0.5))


def _spans(groups: Sequence[Group]) -> list[Forms]:
    """Per group of the question, every form of its word and the Chinese ones of two characters or more (also met
    inside a longer word): worked out once per question, not once per sentence."""
    spans = []
    for _, forms, _ in groups:
        mine = frozenset(form for f in forms.values() for form in f)
        spans.append((mine, tuple(p for p in mine if len(p) > 1 and CJK.match(p))))
    return spans


def _near(groups: Sequence[Group], spans: Sequence[Forms], terms: Sequence[str]) -> float:
    """The largest rarity-weighted share of the question's words met within NEAR search terms of each other."""
    total = sum(rarity for _, _, rarity in groups)
    if not total or not terms:
        return 0.0
    where: list[tuple[int, int]] = []  # (position in the sentence, group)
    for g, (mine, pieces) in enumerate(spans):
        if pieces:  # a Chinese word is also met inside a longer one
            where += [(i, g) for i, term in enumerate(terms) if term in mine or any(p in term for p in pieces)]
        elif not mine.isdisjoint(terms):
            where += [(i, g) for i, term in enumerate(terms) if term in mine]
    where.sort()
    best = 0.0
    for i, (start, _) in enumerate(where):
        inside = {g for position, g in where[i:] if position - start < NEAR}
        best = max(best, sum(groups[g][2] for g in inside))
    return best / total


def met(groups: Sequence[Group], places: Mapping[str, frozenset[str]]) -> dict[str, float]:
    """Per place, the share (by rarity) of the question's words its words meet: fully as written, 0.8 through a
    translation, 0.9 by another word of the same root."""
    places = {place: with_parts(found) for place, found in places.items()}
    out = dict.fromkeys(places, 0.0)
    total = sum(rarity for _, _, rarity in groups)
    if not total:
        return out
    for group, forms, rarity in groups:
        every = frozenset().union(*forms.values())
        for place, found in places.items():
            if every.isdisjoint(found) and roots_of(every).isdisjoint(roots_of(found)):
                continue  # no piece of the word is met there, neither as written nor by its root: no credit
            out[place] += rarity * spread_credit(group[0], {t: credit(t, forms[t], found) for t in group})
    return {place: value / total for place, value in out.items()}


def credit(term: str, forms: set[str], words: frozenset[str]) -> float:
    """How far one question word is met by `words` (see `met`)."""
    if forms & words:
        return 1.0 if term in words else 0.8
    return 0.9 if roots_of(frozenset(forms)) & roots_of(words) else 0.0


def names_missing(question: Question, text: str) -> float:
    """The share of the names the question quotes or capitalizes that `text` lacks; a name in the other language
    counts as present through its dictionary translations."""
    names = [*question.quoted, *sorted(question.proper)]
    if not names:
        return 0.0
    bare = bare_text(text)
    missing = 0
    for name in names:
        forms = [name, *question.expansions.get(name, ())]
        if not any(bare_text(form) and bare_text(form) in bare for form in forms):
            missing += 1
    return missing / len(names)


def asked_span(question: Question, sentence: str) -> str:
    """The name a who / where / which question asks for, when an English sentence holds exactly one name the
    question lacks ("Wang Wei" for "Who founded Nawei?"); "" otherwise."""
    if question.lang != "en" or not _ASKS_NAME.search(question.text):
        return ""
    own = {bare_text(word) for word in question.text.split()}
    names = {m.group(0).strip() for m in _NAME.finditer(sentence)}
    new = [n for n in names if not all(bare_text(w) in own for w in n.split()) and len(n) > 1]
    return new[0] if len(new) == 1 else ""
