"""The `rag` command, run in-process against the session's store."""

from __future__ import annotations

import json

import pytest

from rag.cli import main
from rag.engine import Engine


@pytest.fixture
def env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(engine.settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(engine.settings.seeds_dir))


def test_ask_prints_answer_and_citations(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "How many talents does Suzhou have?"]) == 0
    out = capsys.readouterr().out
    assert "3.43 million" in out
    assert "paragraph 8" in out


def test_ask_lists_the_closest_passages_of_a_refusal(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "How large is Suzhou's pool of skilled people?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The articles do not say.\n")
    assert "Closest passages (they may not answer the question):" in out
    assert "\n[1]" not in out  # nothing is cited


def test_ask_json(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "苏州高新区已累计集聚各类人才多少人？", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is True and "26万" in data["text"]
    assert data["citations"][0]["paragraph"] == 12


def test_ingest_reports_unchanged(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    assert "2 unchanged" in capsys.readouterr().out


def test_help_and_bad_setting(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "rag ask" in capsys.readouterr().out
    monkeypatch.setenv("RAG_TOP_K", "zero")
    assert main(["ask", "anything"]) == 2
    assert "top_k" in capsys.readouterr().err
