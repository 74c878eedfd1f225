"""The offline answerer: picks the sentence that carries the asked figure and quotes it, or says the articles do not."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.answer import Answer, not_found
from rag.citations import cite, marker
from rag.keyword import tokenize
from rag.question import Question
from rag.retrieve import Hit, Index

_NUMBER = re.compile(r"\d|[一二三四五六七八九十两]+[十百千万亿]|[十百千万亿]余?[人家项个名]")
_DATE = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月|\b(?:19|20)\d{2}\b|\b(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December)\b"
)
_PERCENT = re.compile(r"%|％|\bper ?cent\b|百分之")
_FIGURE = {"count": _NUMBER, "amount": _NUMBER, "date": _DATE, "percent": _PERCENT, "any": None}


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

    def __init__(self, index: Index, min_coverage: float = 0.5, top_k: int = 3) -> None:
        self.index = index
        self.min_coverage = min_coverage
        self.top_k = top_k

    def answer(self, question: Question, hits: list[Hit]) -> Answer:
        """The answer to `question` from the retrieved `hits`."""
        evidence = sorted((self.weigh(question, hit) for hit in hits), key=lambda e: -e.support)
        best = next((e for e in evidence if e.coverage >= self.min_coverage and e.has_figure), None)
        if best is None:
            return not_found(question.text, question.lang)
        citation = cite(1, [best.hit], self.index)
        text = f"{best.hit.record.text} {marker(1)}"
        return Answer(question=question.text, text=text, found=True, citations=[citation], backend=self.name)

    def weigh(self, question: Question, hit: Hit) -> Evidence:
        """Score a sentence as evidence for the question."""
        words = set(tokenize(hit.record.text))
        total = covered = 0.0
        for term, weight in question.terms.items():
            if weight < 1.0:
                continue  # translations and expansions count through the word they came from
            rarity = self._rarity(term)
            total += rarity
            if term in words:
                covered += rarity
        coverage = covered / total if total else 0.0
        pattern = _FIGURE[question.wants]
        has_figure = pattern is None or bool(pattern.search(hit.record.text))
        support = coverage + (0.3 if has_figure else 0.0) + 0.5 * max(hit.dense, 0.0) + 5.0 * hit.score
        return Evidence(hit, coverage, has_figure, support)

    def _rarity(self, term: str) -> float:
        """Inverse document frequency; a word the articles never use weighs most (the question is off-topic)."""
        frequency = self.index.keyword.document_frequency.get(term, 0)
        return math.log(1.0 + (len(self.index) + 1) / (frequency + 0.5))
