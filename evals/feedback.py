"""Readers' verdicts as regression cases: `rag eval --feedback` asks each verdict's question again and checks the
answer still holds (👍) or now gives the correction (👎); `rag feedback export` writes them as evaluation questions.

- 👍: the answer must state the figures of the answer the reader approved and cite its first cited paragraph (a
  refusal approved must still be a refusal).
- 👎 with a correction: the answer must state the corrected figure (or, for a correction that is not one figure,
  quote the corrected text) and cite the named source, when the reader named one.
- 👎 without a correction: listed, not scored (nobody said what is right).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.citations import strip_markers
from rag.feedback import Cited, Feedback, Verdict, read
from rag.figures import find_figures, parse_figure, states_figure
from rag.text import detect_lang

from .dataset import parse_line

if TYPE_CHECKING:
    from rag.answer import Answer
    from rag.engine import Engine

HOLDS, BROKEN, LISTED = "holds", "broken", "listed"
# Where verdicts come from, for a reader who has given none yet.
HOW_TO_RATE = "rate answers with 👍 / 👎 on the chat page (`rag chat`) or through its /feedback API"


@dataclass(frozen=True)
class Checked:
    """A verdict and what the current engine answers now: holds, broken (with why) or listed (not scored)."""

    verdict: Verdict
    status: str
    reason: str = ""
    now: str = ""  # the current answer's text


def claimed_figures(text: str) -> list[str]:
    """The figures an answer claims: those before its " — " quote, or in the whole text when it has no dash."""
    body = strip_markers(text).strip()
    claim, dash, _ = body.partition(" — ")
    return [f.text for f in find_figures(claim if dash and find_figures(claim) else body)]


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def _cites(answer: Answer, where: Cited) -> bool:
    return any(c.document == where.document and c.paragraph == where.paragraph for c in answer.citations)


def check(verdict: Verdict, answer: Answer) -> Checked:
    """Whether the current `answer` to the verdict's question keeps what the reader approved or gives the
    correction the reader wrote."""
    now = answer.text
    if verdict.verdict == "up":
        if not verdict.found:
            return Checked(
                verdict, HOLDS if not answer.found else BROKEN, "" if not answer.found else "now answers", now
            )
        if not answer.found:
            return Checked(verdict, BROKEN, "now not found", now)
        body = strip_markers(now)
        lost = [f for f in claimed_figures(verdict.answer) if parse_figure(f) and not states_figure(body, f)]
        if lost:
            return Checked(verdict, BROKEN, f"no longer states {', '.join(lost)}", now)
        if verdict.citations and not _cites(answer, verdict.citations[0]):
            first = verdict.citations[0]
            return Checked(verdict, BROKEN, f"no longer cites {first.document} paragraph {first.paragraph}", now)
        return Checked(verdict, HOLDS, "", now)
    if not verdict.correction:
        return Checked(verdict, LISTED, "👎 without a correction", now)
    if not answer.found:
        return Checked(verdict, BROKEN, f"not found; the reader says {verdict.correction}", now)
    figure = parse_figure(verdict.correction)
    if figure is not None:
        gives = states_figure(strip_markers(now), figure)
    else:
        wanted = _flat(verdict.correction)
        gives = wanted in _flat(strip_markers(now)) or any(wanted in _flat(c.quote) for c in answer.citations)
    if not gives:
        return Checked(verdict, BROKEN, f"does not give the correction {verdict.correction}", now)
    if verdict.source is not None and not _cites(answer, verdict.source):
        where = verdict.source
        return Checked(
            verdict, BROKEN, f"does not cite the named source, {where.document} paragraph {where.paragraph}", now
        )
    return Checked(verdict, HOLDS, "", now)


def evaluate(engine: Engine, verdicts: Sequence[Verdict]) -> list[Checked]:
    """Ask every verdict's question of `engine` and check its answer; an ask() that raises breaks that verdict."""
    checked = []
    for verdict in verdicts:
        if verdict.verdict == "down" and not verdict.correction:
            checked.append(Checked(verdict, LISTED, "👎 without a correction"))
            continue
        try:
            answer = engine.ask(verdict.question)
        except Exception as error:  # counted as broken and listed; the others are still scored
            checked.append(Checked(verdict, BROKEN, f"ask raised {type(error).__name__}: {error}"))
            continue
        checked.append(check(verdict, answer))
    return checked


def report(checked: Sequence[Checked], feedback: Feedback, path: Path) -> str:
    """The terminal report: how many verdicts hold, those that do not, those only listed, and the skipped lines."""
    scored = [c for c in checked if c.status != LISTED]
    holding = sum(c.status == HOLDS for c in scored)
    lines = [f"{path}: {len(feedback.verdicts)} verdicts, {len(feedback.problems)} lines skipped"]
    lines += [f"  {path}:{problem} (skipped)" for problem in feedback.problems]
    lines.append(f"{holding} of {len(scored)} scored verdicts hold")
    for c in scored:
        if c.status == BROKEN:
            mark = "👍" if c.verdict.verdict == "up" else "👎"
            lines.append(
                f"  BROKEN {mark} {_one_line(c.verdict.question)!r}: {c.reason}; now: {_one_line(c.now)[:160]!r}"
            )
    listed = [c for c in checked if c.status == LISTED]
    if listed:
        lines.append(f"{len(listed)} 👎 without a correction (listed, not scored):")
        lines += [f"  {_one_line(c.verdict.question)!r}: {_one_line(c.verdict.answer)[:120]!r}" for c in listed]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run(engine: Engine, path: Path) -> int:
    """`rag eval --feedback`: 0 when every scored verdict holds, 1 when one does not, 2 when there is none to score."""
    feedback = read(path)
    checked = evaluate(engine, feedback.verdicts)
    print(report(checked, feedback, path))
    if not any(c.status != LISTED for c in checked):
        print(f"no verdict to score in {path}: {HOW_TO_RATE}", file=sys.stderr)
        return 2
    return 1 if any(c.status == BROKEN for c in checked) else 0


def case_of(verdict: Verdict) -> dict[str, Any] | None:
    """A verdict as an evaluation question (the schema of evals/questions.jsonl), for review; None for a 👎
    without a correction, which says nothing right."""
    lang = detect_lang(verdict.question)
    lang = lang if lang in ("en", "zh") else "en"
    if verdict.verdict == "up":
        where = verdict.citations[0] if verdict.citations else None
        if not verdict.found or where is None:
            return _row(verdict, lang, "unanswerable", [], None, None)
        figures = [f for f in claimed_figures(verdict.answer) if parse_figure(f)]
        return _row(verdict, lang, "same", figures, where.quote or None, where.document, asks=verdict.kind)
    if not verdict.correction:
        return None
    where = verdict.source or (verdict.citations[0] if verdict.citations else None)
    document, evidence = (where.document, where.quote or None) if where else (None, None)
    if parse_figure(verdict.correction) is not None:
        return _row(verdict, lang, "same", [verdict.correction], evidence, document)
    return _row(verdict, lang, "same", [], evidence, document, asks="fact", answer=verdict.correction)


def _row(
    verdict: Verdict,
    lang: str,
    kind: str,
    figures: list[str],
    evidence: str | None,
    document: str | None,
    asks: str = "figure",
    answer: str | None = None,
) -> dict[str, Any]:
    if kind == "same" and evidence and detect_lang(evidence) != lang:
        kind = "cross"
    row: dict[str, Any] = {
        "id": f"feedback-{verdict.id[:12]}",
        "question": verdict.question,
        "lang": lang,
        "kind": kind,
        "figures": figures,
        "evidence": evidence,
        "document": document,
    }
    if asks in ("fact", "summary"):
        row["asks"] = asks
    if answer is not None:
        row["answer"] = answer
    return row


def export(path: Path, out: Path | None) -> int:
    """`rag feedback export`: the verdicts as evaluation questions, to `out` or standard output; skipped lines
    and 👎 without a correction are reported on standard error."""
    feedback = read(path)
    for problem in feedback.problems:
        print(f"{path}:{problem} (skipped)", file=sys.stderr)
    rows = []
    for verdict in feedback.verdicts:
        row = case_of(verdict)
        if row is None:
            print(f"not exported (👎 without a correction): {_one_line(verdict.question)!r}", file=sys.stderr)
            continue
        rows.append(json.dumps(row, ensure_ascii=False))
        try:
            parse_line(rows[-1])
        except ValueError as error:  # e.g. a corrected figure the named source does not state word for word
            print(f"{row['id']} needs review before `rag eval` reads it: {error}", file=sys.stderr)
    text = "".join(f"{row}\n" for row in rows)
    if not feedback.verdicts:
        print(f"no verdicts in {path}: {HOW_TO_RATE}", file=sys.stderr)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(
            f"{len(rows)} questions written to {out}; review them before adding them to the evaluation", file=sys.stderr
        )
    return 0
