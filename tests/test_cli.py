"""The `rag` command, run in-process against the session's store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from rag.engine import Engine
from rag.settings import Settings


@pytest.fixture
def env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(engine.settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(engine.settings.seeds_dir))


def test_ask_prints_answer_and_citations(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "How many talents does the city have?"]) == 0
    out = capsys.readouterr().out
    assert "3.43 million" in out
    assert "paragraph 8" in out


def test_ask_lists_the_closest_passages_of_a_refusal(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "How large is Suzhou's pool of skilled people?"]) == 1  # not found
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


def test_ingest_of_a_folder_keeps_the_rest_and_prunes_only_when_asked(
    fresh_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(fresh_settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(fresh_settings.seeds_dir))
    (fresh_settings.seeds_dir / "park.txt").write_text("The medical device park has landed 44 quality projects.")
    mine = tmp_path / "my-articles"
    mine.mkdir()
    (mine / "pier.txt").write_text("The pier is 300 metres long. It was built in 1931.")
    (mine / "ferry.txt").write_text("The ferry carries 2,600 people a day. It runs every hour.")
    assert main(["ingest"]) == 0
    assert main(["ingest", str(mine)]) == 0
    assert "2 added, 0 updated, 0 unchanged, 0 removed" in capsys.readouterr().out  # was: the seed article removed

    (mine / "ferry.txt").unlink()
    assert main(["ingest", str(mine)]) == 0
    out = capsys.readouterr().out
    assert f"Kept 1 article gone from {mine} (`rag ingest {mine} --prune` removes them): ferry" in out
    assert "0 removed" in out
    assert main(["ingest", str(mine), "--keep"]) == 0  # the old flag still works: it is the default now
    assert "0 removed" in capsys.readouterr().out

    assert main(["ingest", str(mine), "--prune"]) == 0
    out = capsys.readouterr().out
    told = out.index(f"Removing 1 article gone from {mine}: ferry")
    assert told < out.index("1 removed")  # said before it is done
    assert main(["ingest", "--prune"]) == 0  # the seeds folder: its own article stays, the other folder's too
    assert "0 removed" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    assert "--prune" in capsys.readouterr().out


def test_a_first_question_that_ingests_the_seeds_says_so(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(fresh_settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(fresh_settings.seeds_dir))
    (fresh_settings.seeds_dir / "park.txt").write_text("The medical device park has landed 44 quality projects.")
    assert main(["ask", "How many quality projects has the medical device park landed?"]) == 0
    captured = capsys.readouterr()
    assert "44" in captured.out
    assert "First start: ingesting the seed articles from" in captured.err and "1 seed articles ingested" in captured.err


def test_ask_exit_status_tells_answered_not_found_and_usage_apart(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "How many talents does the city have?", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"] is True
    assert main(["ask", "What is the population of France?", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["found"] is False
    assert main(["ask", "   "]) == 2
    assert capsys.readouterr().out == "Please type a question.\n"
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    assert "1 not found" in " ".join(capsys.readouterr().out.split())


def test_ingest_fails_only_when_nothing_could_be_ingested(
    fresh_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(fresh_settings.data_dir))
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (unreadable / "latin1.txt").write_bytes("Caf\xe9 society grew by 12 percent.".encode("latin-1"))
    assert main(["ingest", str(unreadable)]) == 1
    err = capsys.readouterr().err
    assert err.count("skipped ") == 2 and "nothing could be ingested" in err
    (unreadable / "good.txt").write_text("The harbour hired 350 pilots in 2023.", encoding="utf-8")
    assert main(["ingest", str(unreadable)]) == 0  # what can be read is ingested; the rest is still listed
    captured = capsys.readouterr()
    assert "1 added" in captured.out and captured.err.count("skipped ") == 2
    assert main(["ingest", str(tmp_path / "nowhere")]) == 2  # a path that is not there: a usage error
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    assert "1 nothing could be ingested" in " ".join(capsys.readouterr().out.split())
