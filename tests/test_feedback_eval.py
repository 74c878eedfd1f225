"""`rag eval --feedback` and `rag feedback export` (evals/feedback.py): readers' verdicts as regression cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.dataset import parse_line
from evals.feedback import BROKEN, HOLDS, LISTED, check
from evals.run import main as eval_main
from rag.cli import main
from rag.engine import Engine
from rag.feedback import Cited, append, feedback_path, read, verdict_of
from rag.settings import Settings
from tests.conftest import CountingE5

HARBOUR = """---
title: Harbour report
---
The harbour handled 4.2 million containers in 2023, up from 3.9 million a year earlier.

The port authority hired {pilots} new pilots and opened two berths.
"""
QUESTION = "How many new pilots did the port authority hire?"


def test_a_correction_fails_until_the_engine_gives_it_and_holds_after(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    article = fresh_settings.seeds_dir / "harbour.md"
    article.write_text(HARBOUR.format(pilots=350), encoding="utf-8")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    answer = engine.ask(QUESTION)
    assert answer.found and "350" in answer.text
    path = feedback_path(fresh_settings.data_dir)
    append(path, verdict_of(answer.to_dict(), "down", correction="380", source=Cited("harbour", 2)))
    append(path, verdict_of(engine.ask("How many containers did the harbour handle in 2023?").to_dict(), "up"))
    append(path, verdict_of(answer.to_dict(), "down"))  # no correction: listed only
    assert eval_main(["--feedback"], engine=engine) == 1
    out = capsys.readouterr().out
    assert "1 of 2 scored verdicts hold" in out and "does not give the correction 380" in out
    assert "1 👎 without a correction (listed, not scored)" in out

    article.write_text(HARBOUR.format(pilots=380), encoding="utf-8")  # the articles now say what the reader said
    engine.ingest()
    assert eval_main(["--feedback", str(path)], engine=engine) == 0
    assert "2 of 2 scored verdicts hold" in capsys.readouterr().out


def test_an_approved_answer_must_keep_its_figure_and_paragraph(engine: Engine) -> None:
    answer = engine.ask("How many talents does the city have?")
    approved = verdict_of(answer.to_dict(), "up")
    assert check(approved, answer).status == HOLDS
    other = engine.ask("苏州高新区已累计集聚各类人才多少人？")
    broken = check(approved, other)
    assert broken.status == BROKEN and "no longer states" in broken.reason
    assert check(verdict_of(answer.to_dict(), "down"), answer).status == LISTED


def test_a_bad_feedback_file_is_reported_and_skipped(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "feedback.jsonl"
    append(path, verdict_of(engine.ask("How many talents does the city have?").to_dict(), "up"))
    with path.open("ab") as handle:
        handle.write(b'{"question": "cut short", "verdict"\n')
        handle.write(b'{"question": ["a"], "verdict": "up", "id": "1"}\n')
        handle.write(b'{"question": "q", "verdict": "up", "id": "' + b"x" * 10_000_000 + b'"}\n')
        handle.write(b'{"question": "__import__(\'os\').system(\'touch pwned\')", "verdict": "up", "id": 3}\n')
    assert eval_main(["--feedback", str(path)], engine=engine) == 0
    out = capsys.readouterr().out
    assert "1 verdicts, 4 lines skipped" in out and "1 of 1 scored verdicts hold" in out
    for line in (2, 3, 4, 5):
        assert f"{path}:line {line}: " in out
    assert not Path("pwned").exists()


def test_the_export_writes_evaluation_questions(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    answer = engine.ask("How many talents does the city have?").to_dict()
    append(feedback_path(tmp_path), verdict_of(answer, "up"))
    append(feedback_path(tmp_path), verdict_of(answer, "down"))
    append(feedback_path(tmp_path), verdict_of(answer, "down", correction="about 3.43 million"))
    out = tmp_path / "cases.jsonl"
    assert main(["feedback", "export", "--out", str(out)]) == 0
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2 and "without a correction" in capsys.readouterr().err
    approved = parse_line(rows[0])
    assert approved.figures == ("about 3.43 million",) and approved.document == "suzhou-organizational-work-en"
    assert json.loads(rows[1])["figures"] == ["about 3.43 million"]
    assert len(read(feedback_path(tmp_path)).verdicts) == 3


def test_no_verdicts_yet_says_where_they_come_from(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    assert main(["feedback", "export"]) == 0
    assert "no verdicts in" in capsys.readouterr().err
    assert eval_main(["--feedback", str(feedback_path(tmp_path))], engine=engine) == 2
    assert "rate answers with 👍 / 👎" in capsys.readouterr().err
