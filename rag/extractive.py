"""The offline answerer: picks the sentence that carries the asked figure and quotes it, or says the articles do not."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rag.answer import Answer, not_found
from rag.citations import cite, marker
from rag.corpus import CJK
from rag.figures import Figure, find_figures, states_figure
from rag.keyword import tokenize
from rag.question import Question
from rag.retrieve import Hit, Index

# The figure kinds that answer each kind of question.
WANTED = {
    "count": ("number",),
    "amount": ("number",),
    "date": ("date", "year"),
    "percent": ("percent",),
    "any": ("number", "percent", "date", "year"),
}
# Words that may stand between a figure and the noun it counts without being a noun themselves.
_FILLER = frozenset("个 家 项 名 人 人次 元 亿元 万元 余 多 超 近 约 of".split())


@dataclass(frozen=True)
class Evidence:
    """How well one retrieved sentence supports an answer to the question."""

    hit: Hit
    coverage: float  # share of the question's key terms (weighted by rarity) that the sentence contains
    has_figure: bool
    support: float


class ExtractiveAnswerer:
    """Answers by quoting the best supporting sentence; refuses when no sentence covers the question."""

    name = "offline"

    def __init__(self, index: Index, min_coverage: float = 0.2, top_k: int = 3) -> None:
        self.index = index
        self.min_coverage = min_coverage
        self.top_k = top_k

    def answer(self, question: Question, hits: list[Hit]) -> Answer:
        """The answer to `question` from the retrieved `hits`."""
        if question.measure and not any(self._known(term, question) for term in question.measure):
            return not_found(question.text, question.lang)  # the articles never mention the thing asked about
        evidence = sorted((self.weigh(question, hit) for hit in hits), key=lambda e: -e.support)
        best = next((e for e in evidence if self.answers(question, e)), None)
        if best is None:
            return not_found(question.text, question.lang)
        citation = cite(1, [best.hit], self.index)
        text = f"{best.hit.record.text} {marker(1)}"
        return Answer(question=question.text, text=text, found=True, citations=[citation], backend=self.name)

    def answers(self, question: Question, evidence: Evidence) -> bool:
        """Can this sentence answer the question? It must carry the kind of figure asked for, cover enough of the
        question, name the thing counted, and agree with every figure the question states ("in 2019")."""
        if not evidence.has_figure or evidence.coverage < self.min_coverage:
            return False
        record = evidence.hit.record
        if question.measure and question.wants in ("count", "amount"):
            words = set(tokenize(record.text))
            if not any(self._expanded(term, question) & words for term in question.measure):
                return False
        paragraph = self.index.paragraphs[record.paragraph_id]
        return all(states_figure(paragraph, figure) for figure in question.figures)

    def _expanded(self, term: str, question: Question) -> set[str]:
        return {term, *question.expansions.get(term, ())}

    def _known(self, term: str, question: Question) -> bool:
        frequency = self.index.keyword.document_frequency
        return any(word in frequency for word in self._expanded(term, question))

    def weigh(self, question: Question, hit: Hit) -> Evidence:
        """Score a sentence as evidence for the question.

        A question word counts fully when the sentence has it, mostly when the whole article is about it ("the
        city" in a sentence is Suzhou because the article is about Suzhou), and half when only its paragraph or
        article title has it.
        """
        record = hit.record
        words = set(tokenize(record.text))
        context = set(tokenize(self.index.paragraphs[record.paragraph_id] + " " + record.title))
        topics = self.index.topics.get(record.document, frozenset())
        total = covered = 0.0
        for term, weight in question.terms.items():
            if weight < 1.0:
                continue  # translations and expansions count through the word they came from
            rarity = self._rarity(term, question)
            total += rarity
            if self._expanded(term, question) & words:
                covered += rarity
            elif self._expanded(term, question) & topics:
                covered += 0.8 * rarity
            elif self._expanded(term, question) & context:
                covered += 0.5 * rarity
        coverage = covered / total if total else 0.0
        figures = [f for f in find_figures(record.text) if f.kind in WANTED[question.wants]]
        if question.wants == "amount":
            # "How much" prefers money; counts of people or projects stay possible but rank lower.
            figures.sort(key=lambda f: f.unit == "")
        has_figure = bool(figures) or question.wants == "any"
        near = self._closeness(record.text, figures, question)
        support = coverage + (0.3 if has_figure else 0.0) + 0.4 * near + 0.5 * max(hit.dense, 0.0)
        if question.wants == "amount" and figures and figures[0].unit:
            support += 0.2
        return Evidence(hit, coverage, has_figure, support + 5.0 * hit.score)

    @staticmethod
    def _closeness(text: str, figures: list[Figure], question: Question) -> float:
        """1.0 when a figure stands right by a question word ("3.43 million talents", "人才26万人"), less with
        words in between ("60,000 industrial innovation talents"), 0 when none is near."""
        best = 0.0
        for figure in figures:
            # English counts its noun after the figure; Chinese puts it either side ("人才26万人", "44个优质项目").
            chinese = bool(CJK.search(text[max(0, figure.start - 2) : figure.end + 2]))
            before = tokenize(text[max(0, figure.start - 30) : figure.start]) if chinese else []
            after = [w for w in tokenize(text[figure.end : figure.end + 60]) if w not in _FILLER]
            for gap, word in [*enumerate(reversed(before[-4:])), *enumerate(after[:4])]:
                if word in question.terms:
                    best = max(best, 1.0 / (1 + gap))
        return best

    def _rarity(self, term: str, question: Question) -> float:
        """Inverse document frequency; a word the articles never use weighs most (the question is off-topic)."""
        frequencies = self.index.keyword.document_frequency
        frequency = max(frequencies.get(word, 0) for word in self._expanded(term, question))
        return math.log(1.0 + (len(self.index) + 1) / (frequency + 0.5))
