"""Readers' verdicts on answers (👍 / 👎, with an optional correction): kept on this machine in
`DATA_DIR/feedback.jsonl`, one JSON object a line, appended atomically and read back line by line."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "feedback.jsonl"
VERDICTS = ("up", "down")
MAX_ENTRY_BYTES = 16_000  # one verdict's line, at most: the fields below are cut to fit it
MAX_FILE_BYTES = 50_000_000  # the file stops growing here: a verdict past it is refused, not written
MAX_TEXT = {"question": 2_000, "answer": 4_000, "correction": 500, "quote": 1_000, "user": 100, "model": 100}
MAX_CITATIONS = 10
PER_CLIENT = 30  # verdicts one client may send per window
WINDOW_SECONDS = 3600.0


@dataclass(frozen=True)
class Cited:
    """A paragraph an answer cited (or the one a reader names as the right source): where it is, and its quote."""

    document: str
    paragraph: int
    quote: str = ""


@dataclass(frozen=True)
class Verdict:
    """One reader's verdict on one answer, with what the answer said and which engine said it."""

    question: str
    answer: str
    verdict: str  # "up" or "down"
    kind: str = "none"  # the answer's kind: figure, fact, summary, none
    found: bool = False
    citations: tuple[Cited, ...] = ()
    correction: str = ""  # after 👎: the right answer, a figure or a short text
    source: Cited | None = None  # after 👎: the right source, one of the answer's sources or nearest passages
    answerer: str = "offline"  # the backend that answered
    model: str = ""  # the chat model, for the "openai" backend
    user: str = ""  # the login, when the page has one
    time: str = ""  # ISO 8601, UTC
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        """The verdict as the JSON object of its line."""
        return asdict(self)


@dataclass(frozen=True)
class Problem:
    """A line of the feedback file that was skipped, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class Feedback:
    """The verdicts of a feedback file (the last line of each id) and the lines skipped."""

    verdicts: list[Verdict]
    problems: list[Problem]


class Refused(ValueError):
    """A verdict that is not written: malformed, too large, or past its client's allowance."""


def feedback_path(data_dir: Path) -> Path:
    """Where the verdicts are kept."""
    return Path(data_dir) / FILE_NAME


def verdict_of(
    answer: Mapping[str, Any],
    verdict: str,
    correction: str = "",
    source: Cited | None = None,
    answerer: str = "offline",
    model: str = "",
    user: str = "",
    id: str | None = None,
) -> Verdict:
    """A verdict on an answer given as `Answer.to_dict()` data; Refused when `verdict` is not "up" or "down"."""
    if verdict not in VERDICTS:
        raise Refused(f"a verdict is 'up' or 'down', not {str(verdict)[:20]!r}")
    citations = tuple(
        Cited(str(c.get("document", "")), _int(c.get("paragraph")), str(c.get("quote", "")))
        for c in list(answer.get("citations") or [])[:MAX_CITATIONS]
        if isinstance(c, Mapping) and _int(c.get("paragraph")) >= 1
    )
    made = Verdict(
        question=str(answer.get("question", "")),
        answer=str(answer.get("text", "")),
        verdict=verdict,
        kind=str(answer.get("kind", "none")),
        found=bool(answer.get("found", False)),
        citations=citations,
        correction=" ".join(str(correction or "").split()),
        source=source,
        answerer=str(answer.get("backend", answerer) or answerer),
        model=model,
        user=user,
        time=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return _bounded(made if id is None else replace(made, id=id))


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded(verdict: Verdict) -> Verdict:
    """The verdict with every text cut to its bound, so that its line stays under MAX_ENTRY_BYTES."""

    def cited(c: Cited) -> Cited:
        return Cited(_cut(c.document, 200), c.paragraph, _cut(c.quote, MAX_TEXT["quote"]))

    return replace(
        verdict,
        question=_cut(verdict.question, MAX_TEXT["question"]),
        answer=_cut(verdict.answer, MAX_TEXT["answer"]),
        correction=_cut(verdict.correction, MAX_TEXT["correction"]),
        citations=tuple(cited(c) for c in verdict.citations[:MAX_CITATIONS]),
        source=cited(verdict.source) if verdict.source else None,
        model=_cut(verdict.model, MAX_TEXT["model"]),
        user=_cut(verdict.user, MAX_TEXT["user"]),
        id=_cut(verdict.id, 64),
    )


class Allowance:
    """At most `most` verdicts per client in any `window` seconds (the way failed logins are throttled)."""

    def __init__(
        self, most: int = PER_CLIENT, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.most = most
        self.window = window
        self.clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> bool:
        """Count one verdict from `client`; False (and not counted) when its allowance is spent."""
        with self._lock:
            now = self.clock()
            sent = self._sent.setdefault(client, deque())
            while sent and now - sent[0] >= self.window:
                sent.popleft()
            if len(sent) >= self.most:
                return False
            sent.append(now)
            if len(self._sent) > 10_000:  # keep the table small: forget clients with nothing in the window
                for gone in [c for c, times in self._sent.items() if not times or now - times[-1] >= self.window]:
                    del self._sent[gone]
            return True


_write_lock = threading.Lock()


def append(path: Path, verdict: Verdict) -> None:
    """Append one verdict as one line, atomically: one write under an exclusive lock, so concurrent writers
    (threads or processes) never interleave and a reader never sees half a line; Refused when over a bound."""
    line = (json.dumps(_bounded(verdict).to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
    if len(line) > MAX_ENTRY_BYTES:
        raise Refused(f"a verdict of {len(line):,} bytes is over the {MAX_ENTRY_BYTES:,}-byte limit")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if os.fstat(descriptor).st_size + len(line) > MAX_FILE_BYTES:
                raise Refused(f"{path} is full ({MAX_FILE_BYTES:,} bytes); export and move it to collect more")
            os.write(descriptor, line)
        finally:
            os.close(descriptor)  # also releases the lock


def read(path: Path, max_line: int = MAX_ENTRY_BYTES) -> Feedback:
    """The verdicts of a feedback file, the last line of each id kept; every line that cannot be used (not JSON,
    cut short, wrong types, longer than `max_line` bytes) is a Problem and skipped. Only JSON is parsed."""
    latest: dict[str, Verdict] = {}
    problems: list[Problem] = []
    if not Path(path).exists():
        return Feedback([], [])
    with open(path, "rb") as handle:
        number = 0
        while line := handle.readline(max_line + 1):
            number += 1
            if len(line) > max_line and not line.endswith(b"\n"):
                size = len(line)
                while line and not line.endswith(b"\n"):  # the rest of the long line, read in bounded pieces
                    line = handle.readline(1 << 16)
                    size += len(line)
                problems.append(Problem(number, f"{size:,} bytes, over the {max_line:,}-byte limit of a verdict"))
                continue
            if not line.strip():
                continue
            try:
                verdict = parse(line.decode("utf-8"))
            except UnicodeDecodeError:
                problems.append(Problem(number, "not UTF-8 text"))
                continue
            except ValueError as error:
                problems.append(Problem(number, str(error)))
                continue
            latest.pop(verdict.id, None)  # a later line of the same id (a correction sent after 👎) replaces it
            latest[verdict.id] = verdict
    return Feedback(list(latest.values()), problems)


def parse(line: str) -> Verdict:
    """One line as a Verdict; ValueError saying what is wrong with it."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON, perhaps cut short ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON: nested too deep") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    text = {"question", "answer", "verdict", "kind", "correction", "answerer", "model", "user", "time", "id"}
    for key in text:
        if key in row and not isinstance(row[key], str):
            raise ValueError(f"{key!r} must be a string, not {type(row[key]).__name__}")
    for key in ("question", "verdict", "id"):
        if not str(row.get(key, "")).strip():
            raise ValueError(f"{key!r} is missing")
    if row["verdict"] not in VERDICTS:
        raise ValueError(f"'verdict' must be 'up' or 'down', not {row['verdict'][:20]!r}")
    if not isinstance(row.get("found", False), bool):
        raise ValueError("'found' must be true or false")
    citations = row.get("citations", [])
    if not isinstance(citations, list):
        raise ValueError("'citations' must be a list")
    source = row.get("source")
    return Verdict(
        question=row["question"],
        answer=row.get("answer", ""),
        verdict=row["verdict"],
        kind=row.get("kind", "none"),
        found=row.get("found", False),
        citations=tuple(_cited(c, "citations") for c in citations),
        correction=row.get("correction", ""),
        source=None if source is None else _cited(source, "source"),
        answerer=row.get("answerer", "offline"),
        model=row.get("model", ""),
        user=row.get("user", ""),
        time=row.get("time", ""),
        id=row["id"],
    )


def _cited(value: object, name: str) -> Cited:
    if not isinstance(value, dict):
        raise ValueError(f"{name!r} must hold objects with document, paragraph and quote")
    document, paragraph, quote = value.get("document"), value.get("paragraph"), value.get("quote", "")
    if not isinstance(document, str) or not document:
        raise ValueError(f"a {name} entry's 'document' must be a non-empty string")
    if not isinstance(paragraph, int) or isinstance(paragraph, bool) or paragraph < 1:
        raise ValueError(f"a {name} entry's 'paragraph' must be a number from 1")
    if not isinstance(quote, str):
        raise ValueError(f"a {name} entry's 'quote' must be a string")
    return Cited(document, paragraph, quote)
