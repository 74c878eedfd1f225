"""The offline answerer: picks the sentence that carries the asked figure and quotes it, or says the articles do not."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.answer import Answer, not_found
from rag.citations import cite, marker
from rag.corpus import CJK
from rag.keyword import tokenize
from rag.question import Question
from rag.retrieve import Hit, Index

_NUMBER = re.compile(r"\d|[一二三四五六七八九十两]+[十百千万亿]|[十百千万亿]余?[人家项个名]")
_DATE = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月|\b(?:19|20)\d{2}\b|\b(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December)\b"
)
_PERCENT = re.compile(r"%|％|\bper ?cent\b|百分之")
# What follows a number and still belongs to it: "3.43 million", "26万", "175亿元".
_figure_tail = re.compile(r"^[\d.,]*\s*(?:million|billion|thousand|hundred|percent|%|[万亿千百]+元?|余|多)?")
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
            rarity = self._rarity(term)
            total += rarity
            if term in words:
                covered += rarity
            elif term in topics:
                covered += 0.8 * rarity
            elif term in context:
                covered += 0.5 * rarity
        coverage = covered / total if total else 0.0
        pattern = _FIGURE[question.wants]
        has_figure = pattern is None or bool(pattern.search(record.text))
        near = self._closeness(record.text, pattern, question) if has_figure and pattern is not None else 0.0
        support = coverage + (0.3 if has_figure else 0.0) + 0.4 * near + 0.5 * max(hit.dense, 0.0)
        return Evidence(hit, coverage, has_figure, support + 5.0 * hit.score)

    @staticmethod
    def _closeness(text: str, pattern: re.Pattern[str], question: Question) -> float:
        """1.0 when a figure stands right by a question word ("3.43 million talents", "人才26万人"), less with
        words in between ("60,000 industrial innovation talents"), 0 when none is near."""
        best = 0.0
        for match in pattern.finditer(text):
            # English counts its noun after the figure; Chinese puts it either side ("人才26万人", "44个优质项目").
            chinese = bool(CJK.search(text[max(0, match.start() - 2) : match.end() + 2]))
            before = tokenize(text[max(0, match.start() - 30) : match.start()]) if chinese else []
            after = tokenize(_figure_tail.sub("", text[match.end() : match.end() + 60], count=1))
            for gap, word in [*enumerate(reversed(before[-4:])), *enumerate(after[:4])]:
                if word in question.terms:
                    best = max(best, 1.0 / (1 + gap))
        return best

    def _rarity(self, term: str) -> float:
        """Inverse document frequency; a word the articles never use weighs most (the question is off-topic)."""
        frequency = self.index.keyword.document_frequency.get(term, 0)
        return math.log(1.0 + (len(self.index) + 1) / (frequency + 0.5))
