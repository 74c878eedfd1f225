"""Evaluation questions: read a JSONL file, check every line, and keep the good ones with the bad ones' line numbers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.figures import parse_figure

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
KINDS = ("same", "cross", "paraphrase", "unanswerable")
LANGS = ("en", "zh")
FIELDS = ("id", "question", "lang", "kind", "figures", "evidence", "document")
OPTIONAL = ("asks", "answer")  # the kind of answer asked for (default "figure"), and a fact's gold answer span
ASKS = ("figure", "fact", "summary")


@dataclass(frozen=True)
class Case:
    """One evaluation question and its known answer: the figures, the evidence clause and its article."""

    id: str
    question: str
    lang: str
    kind: str
    figures: tuple[str, ...]
    evidence: str | None
    document: str | None
    line: int = 0
    asks: str = "figure"  # "figure", "fact" (who/what/why/how: `answer` is the span to quote) or "summary"
    answer: str | None = None  # a fact question's gold answer, a verbatim part of `evidence`

    @property
    def answerable(self) -> bool:
        """Whether the articles answer it (every kind but `unanswerable`)."""
        return self.kind != "unanswerable"


@dataclass(frozen=True)
class LoadError:
    """A line of the question file that could not be used, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Dataset:
    """The usable questions of a file and the errors of the lines that were skipped."""

    path: Path
    cases: list[Case]
    errors: list[LoadError]


def load(path: Path = QUESTIONS) -> Dataset:
    """Read a question file; a malformed line becomes a `LoadError` and the remaining lines are still read."""
    cases: list[Case] = []
    errors: list[LoadError] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = parse_line(line, number)
        except ValueError as error:
            errors.append(LoadError(number, str(error)))
            continue
        if case.id in seen:
            errors.append(LoadError(number, f"duplicate id {case.id!r} (first on line {seen[case.id]})"))
            continue
        seen[case.id] = number
        cases.append(case)
    return Dataset(Path(path), cases, errors)


def select(cases: Sequence[Case], kind: str | None = None, limit: int | None = None) -> list[Case]:
    """The questions of one kind (or all), at most `limit` of them, in file order."""
    chosen = [case for case in cases if kind is None or case.kind == kind]
    return chosen[:limit] if limit is not None else chosen


def parse_line(line: str, number: int = 0) -> Case:
    """One JSONL line as a `Case`; raises ValueError saying what is wrong with it."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    unknown = [key for key in row if key not in FIELDS + OPTIONAL]
    if unknown:
        names = ", ".join(FIELDS + OPTIONAL)
        raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))}; the fields are {names}")
    missing = [key for key in FIELDS if key not in row]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(map(repr, missing))}")
    _check(row)
    return Case(
        id=row["id"],
        question=row["question"],
        lang=row["lang"],
        kind=row["kind"],
        figures=tuple(row["figures"]),
        evidence=row["evidence"],
        document=row["document"],
        line=number,
        asks=row.get("asks", "figure"),
        answer=row.get("answer"),
    )


def _check(row: dict[str, Any]) -> None:
    for key in ("id", "question"):
        if not isinstance(row[key], str) or not row[key].strip():
            raise ValueError(f"{key!r} must be a non-empty string")
    if row["lang"] not in LANGS:
        raise ValueError(f"'lang' must be one of {', '.join(LANGS)}, not {row['lang']!r}")
    if row["kind"] not in KINDS:
        raise ValueError(f"'kind' must be one of {', '.join(KINDS)}, not {row['kind']!r}")
    asks, answer = row.get("asks", "figure"), row.get("answer")
    if asks not in ASKS:
        raise ValueError(f"'asks' must be one of {', '.join(ASKS)}, not {asks!r}")
    if answer is not None and (asks != "fact" or not isinstance(answer, str) or not answer.strip()):
        raise ValueError("'answer' is a non-empty string, given for a fact question only")
    figures, evidence, document = row["figures"], row["evidence"], row["document"]
    if not isinstance(figures, list) or not all(isinstance(f, str) and f.strip() for f in figures):
        raise ValueError("'figures' must be a list of non-empty strings")
    for key in ("evidence", "document"):
        if row[key] is not None and (not isinstance(row[key], str) or not row[key].strip()):
            raise ValueError(f"{key!r} must be a non-empty string or null")
    if row["kind"] == "unanswerable":
        if figures or evidence is not None or document is not None:
            raise ValueError("an unanswerable question has figures [], evidence null and document null")
        return
    if asks == "summary":
        if figures or evidence is not None or document is None:
            raise ValueError("a summary question has figures [], evidence null and its article's document")
        return
    if asks == "fact":
        if answer is None or evidence is None or document is None:
            raise ValueError("a fact question needs answer, evidence and document")
        if " ".join(answer.split()).casefold() not in " ".join(evidence.split()).casefold():
            raise ValueError(f"answer {answer!r} is not in the evidence")
        return
    if not figures or evidence is None or document is None:
        raise ValueError(f"a {row['kind']!r} question needs figures, evidence and document")
    for figure in figures:
        if parse_figure(figure) is None:
            raise ValueError(f"figure {figure!r} is not one figure the matcher can read")
        if figure not in evidence:
            raise ValueError(f"figure {figure!r} is not in the evidence")
