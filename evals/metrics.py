"""Scoring: one `Verdict` per question (figure, citation, quote, refusal, hallucination, retrieval rank) and their sums.

Definitions (also in docs/evaluation.md):

- figure right: every expected figure is stated in the answer text with the [n] markers removed, by
  `rag.figures.states_figure`; an answer longer than `MAX_ANSWER_CHARS` states nothing (quoting a whole
  article is not an answer).
- citation hit: some citation is of the evidence's article and its paragraph text contains the evidence.
- quote hit: some citation of the evidence's article has a quote that contains the evidence, or a quote that
  lies inside the evidence and still states every expected figure. Evidence strings are clauses and quotes are
  sentences, so the first case is the usual one; the second accepts a quote trimmed to the clause itself.
  Whitespace runs count as one space in both checks.
- correct: found, figure right and citation hit; for an unanswerable question, refused (found=False). A fact
  question (`asks: fact`) is correct when a citation of the evidence's paragraph quotes the gold answer
  (whitespace and case aside); a summary question when it cites at least `SUMMARY_CITATIONS` paragraphs, all of
  the right article.
- citation precision: of the citations of answerable questions, the share whose paragraph states an expected figure.
- hallucination: an unanswerable question answered (found=True) with any figure; an answerable question whose
  answer states a figure that none of its cited paragraphs states.
- nearest hit: for a refused answerable question, some passage the refusal shows as nearest (`Answer.nearest`)
  is of the evidence's article and holds the evidence: the reader can still find the figure. Reported as a share
  of the refused answerable questions.
- retrieval rank: 1-based rank of the first paragraph holding the evidence among the distinct paragraphs of the
  retriever's hits, in hit order; recall@k and MRR over answerable questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer import Answer, Citation
from rag.citations import strip_markers
from rag.figures import find_figures, states_figure
from rag.retrieve import Hit

from .dataset import ASKS, KINDS, Case

MAX_ANSWER_CHARS = 500
SUMMARY_CITATIONS = 3  # paragraphs a summary must cite, every one of the right article
K_VALUES = (1, 3, 5, 10)


def _flat(text: str) -> str:
    return " ".join(text.split())


def answer_body(answer: Answer) -> str:
    """The answer text without its citation markers (markers are not figures)."""
    return strip_markers(answer.text).strip()


def states_figures(answer: Answer, figures: Sequence[str]) -> bool:
    """Whether the answer states every expected figure, in at most `MAX_ANSWER_CHARS` characters."""
    body = answer_body(answer)
    if not figures or len(body) > MAX_ANSWER_CHARS:
        return False
    # "3 — …派出3个…、…派出4个督导组…": a figure stated up front is the answer's claim, and the quote after the
    # dash only its evidence, so the claim must be the expected figure.
    claim, dash, _ = body.partition(" — ")
    if dash and find_figures(claim):
        body = claim
    return all(states_figure(body, figure) for figure in figures)


def fact_hit(answer: Answer, case: Case) -> bool:
    """Whether a citation of the paragraph holding the evidence quotes the fact question's gold answer."""
    if case.answer is None or case.evidence is None:
        return False
    gold, evidence = _flat(case.answer).casefold(), _flat(case.evidence)
    return any(
        c.document == case.document and evidence in _flat(c.text) and gold in _flat(c.quote).casefold()
        for c in answer.citations
    )


def summary_hit(answer: Answer, case: Case) -> bool:
    """Whether a summary cites at least SUMMARY_CITATIONS paragraphs, every one of the asked article."""
    return len(answer.citations) >= SUMMARY_CITATIONS and all(c.document == case.document for c in answer.citations)


def citation_hit(answer: Answer, case: Case) -> bool:
    """Whether a cited paragraph of the right article contains the evidence (for a summary: is of that article)."""
    if case.evidence is None:
        return case.asks == "summary" and any(c.document == case.document for c in answer.citations)
    evidence = _flat(case.evidence)
    return any(c.document == case.document and evidence in _flat(c.text) for c in answer.citations)


def quote_covers(quote: str, evidence: str, figures: Sequence[str]) -> bool:
    """Whether a quote holds the evidence clause, or is a part of it that still states every expected figure."""
    quote, evidence = _flat(quote), _flat(evidence)
    if not quote:
        return False
    return evidence in quote or (quote in evidence and all(states_figure(quote, figure) for figure in figures))


def quote_hit(answer: Answer, case: Case) -> bool:
    """Whether a citation of the right article quotes the evidence (see `quote_covers`)."""
    if case.evidence is None:
        return False
    return any(
        c.document == case.document and quote_covers(c.quote, case.evidence, case.figures) for c in answer.citations
    )


def nearest_hit(answer: Answer, case: Case) -> bool:
    """Whether a refusal shows the evidence's paragraph among its nearest passages."""
    if case.evidence is None or answer.found:
        return False
    evidence = _flat(case.evidence)
    return any(c.document == case.document and evidence in _flat(c.text) for c in answer.nearest)


def supports(citation: Citation, figures: Sequence[str]) -> bool:
    """Whether the cited paragraph states one of the expected figures."""
    return any(states_figure(citation.text, figure) for figure in figures)


def hallucinated_figures(answer: Answer, case: Case) -> list[str]:
    """Figures the answer states that the articles do not back: any, for an unanswerable question; for the
    others, those no cited paragraph states. A refusal states nothing."""
    if not answer.found:
        return []
    figures = find_figures(answer_body(answer))
    if not case.answerable:
        return [figure.text for figure in figures]
    return [figure.text for figure in figures if not any(states_figure(c.text, figure) for c in answer.citations)]


def evidence_rank(case: Case, hits: Sequence[Hit], paragraphs: Mapping[str, str]) -> int | None:
    """1-based rank of the first paragraph holding the evidence among the hits' distinct paragraphs; None if absent."""
    if case.evidence is None:
        return None
    evidence = _flat(case.evidence)
    seen: set[str] = set()
    for hit in hits:
        pid = hit.record.paragraph_id
        if pid in seen:
            continue
        seen.add(pid)
        if hit.record.document == case.document and evidence in _flat(paragraphs.get(pid, "")):
            return len(seen)
    return None


@dataclass(frozen=True)
class Verdict:
    """How one question went: the answer (None when ask() raised) and every check on it."""

    case: Case
    answer: Answer | None
    seconds: float
    figure_ok: bool = False
    citation_hit: bool = False
    quote_hit: bool = False
    supporting: int = 0  # citations whose paragraph states an expected figure
    cited: int = 0  # citations, for answerable questions
    hallucinated: tuple[str, ...] = ()
    rank: int | None = None
    error: str | None = None
    nearest_hit: bool = False  # refused, but the evidence's paragraph is among the nearest passages shown

    @property
    def found(self) -> bool:
        """The engine gave an answer (not a refusal, not an error)."""
        return self.answer is not None and self.answer.found

    @property
    def refused(self) -> bool:
        """The engine said the articles do not say."""
        return self.answer is not None and not self.answer.found

    @property
    def correct(self) -> bool:
        """Found with the right figure and the evidence cited (a fact: its answer quoted from there; a summary: enough
        paragraphs of its article cited); or, for an unanswerable question, refused."""
        if self.case.answerable:
            if self.case.asks != "figure":
                return self.found and self.figure_ok
            return self.found and self.figure_ok and self.citation_hit
        return self.refused

    def reasons(self) -> list[str]:
        """Why the answer is not correct (empty when it is), plus any hallucinated figures."""
        if self.error is not None:
            return [f"ask() raised: {self.error}"]
        out: list[str] = []
        if self.case.answerable:
            if self.refused:
                out.append("refused")
            else:
                if not self.figure_ok:
                    out.append("figure missing or wrong")
                if not self.citation_hit:
                    out.append("evidence paragraph not cited")
        elif self.found:
            out.append("answered an unanswerable question")
        if self.hallucinated:
            out.append("unsupported figure(s): " + ", ".join(self.hallucinated))
        return out


def judge(case: Case, answer: Answer, seconds: float, rank: int | None = None) -> Verdict:
    """Every check on one answer."""
    answerable = case.answerable
    return Verdict(
        case=case,
        answer=answer,
        seconds=seconds,
        figure_ok=answerable and answer.found and _answer_ok(answer, case),
        citation_hit=answerable and citation_hit(answer, case),
        quote_hit=answerable and quote_hit(answer, case),
        supporting=sum(supports(c, case.figures) for c in answer.citations) if answerable else 0,
        cited=len(answer.citations) if answerable else 0,
        hallucinated=tuple(hallucinated_figures(answer, case)),
        rank=rank,
        nearest_hit=answerable and nearest_hit(answer, case),
    )


def _answer_ok(answer: Answer, case: Case) -> bool:
    """The answer says what was asked: the figure, the fact's gold answer quoted, or the article summarised."""
    if case.asks == "fact":
        return fact_hit(answer, case)
    if case.asks == "summary":
        return summary_hit(answer, case)
    return states_figures(answer, case.figures)


def failure(case: Case, error: BaseException, seconds: float, rank: int | None = None) -> Verdict:
    """The verdict of a question whose ask() raised: wrong on every count."""
    return Verdict(case=case, answer=None, seconds=seconds, rank=rank, error=f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class Summary:
    """The metrics of a group of verdicts; shares are 0..1 and None where the group has nothing to measure."""

    questions: int
    answerable: int
    correct: float | None
    figure_accuracy: float | None
    citation_hit: float | None
    quote_hit: float | None
    citation_precision: float | None
    refused: float | None
    refusal_precision: float | None
    refusal_recall: float | None
    hallucination: float | None
    nearest_hit: float | None
    recall_at_1: float | None
    recall_at_3: float | None
    recall_at_5: float | None
    recall_at_10: float | None
    mrr: float | None
    p50_seconds: float | None
    p95_seconds: float | None
    errors: int


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summarize(verdicts: Sequence[Verdict]) -> Summary:
    """The metrics of a group of verdicts (see the module docstring for each definition)."""
    answerable = [v for v in verdicts if v.case.answerable]
    unanswerable = [v for v in verdicts if not v.case.answerable]
    refused = [v for v in verdicts if v.refused]
    cited = sum(v.cited for v in answerable)
    seconds = [v.seconds for v in verdicts]
    recall = {k: _share([v.rank is not None and v.rank <= k for v in answerable]) for k in K_VALUES}
    return Summary(
        questions=len(verdicts),
        answerable=len(answerable),
        correct=_share([v.correct for v in verdicts]),
        figure_accuracy=_share([v.figure_ok for v in answerable]),
        citation_hit=_share([v.citation_hit for v in answerable]),
        quote_hit=_share([v.quote_hit for v in answerable]),
        citation_precision=sum(v.supporting for v in answerable) / cited if cited else None,
        refused=_share([v.refused for v in verdicts]),
        refusal_precision=_share([not v.case.answerable for v in refused]),
        refusal_recall=_share([v.refused for v in unanswerable]),
        hallucination=_share([bool(v.hallucinated) for v in verdicts]),
        nearest_hit=_share([v.nearest_hit for v in answerable if v.refused]),
        recall_at_1=recall[1],
        recall_at_3=recall[3],
        recall_at_5=recall[5],
        recall_at_10=recall[10],
        mrr=sum(1.0 / v.rank for v in answerable if v.rank) / len(answerable) if answerable else None,
        p50_seconds=float(np.percentile(seconds, 50)) if seconds else None,
        p95_seconds=float(np.percentile(seconds, 95)) if seconds else None,
        errors=sum(v.error is not None for v in verdicts),
    )


def summarize_by_kind(verdicts: Sequence[Verdict]) -> dict[str, Summary]:
    """A summary per question kind present (in `KINDS` order, then any other), then per kind of answer asked
    (figure, fact, summary) when there are several, and `overall` last."""
    kinds = [kind for kind in KINDS if any(v.case.kind == kind for v in verdicts)]
    kinds += sorted({v.case.kind for v in verdicts} - set(kinds))
    out = {kind: summarize([v for v in verdicts if v.case.kind == kind]) for kind in kinds}
    asked = [asks for asks in ASKS if any(v.case.asks == asks for v in verdicts)]
    if len(asked) > 1:
        out |= {asks: summarize([v for v in verdicts if v.case.asks == asks]) for asks in asked}
    out["overall"] = summarize(verdicts)
    return out
