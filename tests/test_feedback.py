"""Readers' verdicts: appended atomically, bounded, and read back line by line whatever the file holds."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from rag.feedback import (
    MAX_ENTRY_BYTES,
    Allowance,
    Cited,
    Refused,
    append,
    feedback_path,
    read,
    verdict_of,
)

ANSWER = {
    "question": "How many talents does the city have?",
    "text": "about 3.43 million talents — At present, the city has a total of about 3.43 million talents [1]",
    "found": True,
    "kind": "figure",
    "backend": "offline",
    "citations": [
        {
            "number": 1,
            "document": "suzhou-organizational-work-en",
            "paragraph": 8,
            "quote": "At present, the city has a total of about 3.43 million talents.",
            "text": "the whole paragraph",
        }
    ],
}


def test_a_verdict_round_trips_and_a_later_line_of_its_id_replaces_it(tmp_path: Path) -> None:
    path = feedback_path(tmp_path)
    down = verdict_of(ANSWER, "down", user="ann")
    append(path, down)
    corrected = verdict_of(
        ANSWER, "down", correction="  3.5 million ", source=Cited("suzhou-organizational-work-en", 8), id=down.id
    )
    append(path, corrected)
    append(path, verdict_of(ANSWER, "up"))
    feedback = read(path)
    assert feedback.problems == [] and len(feedback.verdicts) == 2
    first = feedback.verdicts[0]
    assert first.id == down.id and first.correction == "3.5 million" and first.source is not None
    assert first.citations == (Cited("suzhou-organizational-work-en", 8, ANSWER["citations"][0]["quote"]),)
    assert first.kind == "figure" and first.answerer == "offline" and first.time.endswith("+00:00")
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["user"] == "ann"


def test_an_entry_is_bounded(tmp_path: Path) -> None:
    huge = {**ANSWER, "question": "q" * 100_000, "text": "a" * 1_000_000, "citations": ANSWER["citations"] * 500}
    verdict = verdict_of(huge, "down", correction="c" * 100_000)
    append(feedback_path(tmp_path), verdict)
    line = feedback_path(tmp_path).read_bytes()
    assert len(line) < MAX_ENTRY_BYTES
    (kept,) = read(feedback_path(tmp_path)).verdicts
    assert len(kept.question) == 2_000 and len(kept.citations) == 10 and len(kept.correction) == 500
    with pytest.raises(Refused):
        verdict_of(ANSWER, "sideways")


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    path = feedback_path(tmp_path)
    big = {**ANSWER, "text": "x" * 3_900}

    def write() -> None:
        for _ in range(25):
            append(path, verdict_of(big, "up"))

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    feedback = read(path)
    assert feedback.problems == [] and len(feedback.verdicts) == 200


def test_the_allowance_counts_per_client_in_a_window() -> None:
    now = [0.0]
    allowance = Allowance(most=3, window=60, clock=lambda: now[0])
    assert [allowance.take("a") for _ in range(4)] == [True, True, True, False]
    assert allowance.take("b")
    now[0] = 61
    assert allowance.take("a")


def test_a_bad_file_is_reported_line_by_line_and_skipped(tmp_path: Path) -> None:
    path = feedback_path(tmp_path)
    append(path, verdict_of(ANSWER, "up"))
    good = path.read_text(encoding="utf-8")
    lines = [
        good.rstrip("\n"),
        good[: len(good) // 2],  # truncated
        json.dumps({"question": 3, "verdict": "up", "id": "x"}),  # wrong type
        json.dumps({"question": "q", "verdict": "up", "id": "y", "citations": [{"document": "d", "paragraph": True}]}),
        json.dumps(["a list"]),
        "[" * 5_000 + "]" * 5_000,  # nested beyond the parser
        '{"question": "q", "verdict": "up", "id": "' + "z" * 10_000_000 + '"}',  # a 10 MB line
        '{"__class__": "os.system", "question": "rm -rf /", "verdict": "meh", "id": "w"}',
        good.rstrip("\n").replace('"up"', '"down"'),  # the last line of this id wins
    ]
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n\xff\xfe\n")
    feedback = read(path)
    (verdict,) = feedback.verdicts
    assert verdict.verdict == "down"
    assert [p.line for p in feedback.problems] == [2, 3, 4, 5, 6, 7, 8, 10]
    reasons = [p.reason for p in feedback.problems]
    assert "not valid JSON" in reasons[0] and "'question' must be a string" in reasons[1]
    assert "paragraph" in reasons[2] and "expected a JSON object" in reasons[3] and "nested" in reasons[4]
    assert "over the" in reasons[5] and "'verdict' must be" in reasons[6] and reasons[7] == "not UTF-8 text"
