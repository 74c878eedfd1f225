"""The evaluation run: the baseline gate, and a real end-to-end run on a few questions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from evals import baseline
from evals.metrics import Summary, summarize
from evals.run import main
from rag.answer import Answer
from rag.engine import Engine
from rag.settings import Settings
from tests.test_dataset import GOOD, UNANSWERABLE, jsonl

ZH: dict[str, object] = {
    "id": "zh-same-001",
    "question": "苏州高新区拥有各级各类领军人才多少人次？",
    "lang": "zh",
    "kind": "same",
    "figures": ["1700"],
    "evidence": "拥有各级各类领军人才1700多人次",
    "document": "suzhou-high-tech-zone-zh",
}
CROSS: dict[str, object] = {
    "id": "zh-cross-001",
    "question": "苏州全市人才总量是多少？",
    "lang": "zh",
    "kind": "cross",
    "figures": ["3.43 million"],
    "evidence": "the city has a total of about 3.43 million talents",
    "document": "suzhou-organizational-work-en",
}
RAISES = "(raise) How many talents?"


def summary(correct: float) -> Summary:
    """A summary whose only interesting number is correct-accuracy."""
    empty = summarize([])
    return replace(empty, questions=100, correct=correct)


def test_the_gate_allows_two_points_and_no_more() -> None:
    reference = {"overall": {"correct": 0.50}, "per_kind": {"cross": {"correct": 0.9}}}
    assert baseline.check(summary(0.48), reference).passed
    assert baseline.check(summary(0.60), reference).passed
    failed = baseline.check(summary(0.4799), reference)
    assert not failed.passed and "FAIL" in failed.message and "50.0%" in failed.message
    assert not baseline.check(summary(0.5), reference, kind="cross").passed
    assert not baseline.check(summary(0.5), reference, kind="same").passed  # no baseline for it: cannot pass


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for option in ("--questions", "--backend", "--check", "--update-baseline", "--limit", "--kind"):
        assert option in text


def test_a_partial_run_cannot_become_the_baseline(tmp_path: Path) -> None:
    assert main(["--limit", "3", "--update-baseline", "--baseline", str(tmp_path / "b.json")]) == 2
    assert not (tmp_path / "b.json").exists()


class RaisingEngine(Engine):
    """The real engine, except that a question starting with '(raise)' makes ask() raise."""

    def ask(self, question: str) -> Answer:
        """Raise for the marked question, else answer as usual."""
        if question.startswith("(raise)"):
            raise RuntimeError("simulated failure")
        return super().ask(question)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A real engine over the seed articles, with its store in a temporary folder."""
    return RaisingEngine(Settings(data_dir=tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="module")
def questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five questions: English and Chinese, cross-language, unanswerable, one whose ask() raises, one bad line."""
    raises = {**GOOD, "id": "en-same-099", "question": RAISES}
    return jsonl(tmp_path_factory.mktemp("q") / "q.jsonl", GOOD, ZH, CROSS, UNANSWERABLE, raises, '{"id": 1}')


@pytest.mark.slow
def test_a_run_writes_json_report_and_chart_and_sets_the_baseline(
    engine: Engine, questions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, reference = tmp_path / "results", tmp_path / "baseline.json"
    argv = ["--questions", str(questions), "--out", str(out), "--baseline", str(reference), "--no-progress"]
    assert main([*argv, "--update-baseline"], engine=engine) == 0
    printed = capsys.readouterr()
    assert "line 6:" in printed.err  # the bad line is named and skipped
    assert "correct (found + figure + citation)" in printed.out

    (results,) = out.glob("eval-*.json")
    body = json.loads(results.read_text(encoding="utf-8"))
    assert body["run"]["backend"] == "offline" and "e5" in body["run"]["embedder"]
    assert [q["id"] for q in body["questions"]] == ["en-same-002", "zh-same-001", "zh-cross-001",
                                                     "en-unanswerable-001", "en-same-099"]  # fmt: skip
    assert [e["line"] for e in body["load_errors"]] == [6]
    by_id = {q["id"]: q for q in body["questions"]}
    assert by_id["en-same-002"]["answer"]["found"] and by_id["en-same-002"]["verdict"]["correct"]
    assert by_id["en-same-099"]["answer"] is None
    assert by_id["en-same-099"]["verdict"]["error"] == "RuntimeError: simulated failure"
    assert body["summaries"]["overall"]["errors"] == 1
    assert body["summaries"]["overall"]["questions"] == 5

    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| metric | same | cross | unanswerable | overall |" in markdown
    assert "en-same-099" in markdown and "simulated failure" in markdown
    assert "Backend:** offline" in markdown
    chart = (out / "chart.png").read_bytes()
    assert chart.startswith(b"\x89PNG") and len(chart) > 10_000

    written = baseline.read(reference)
    assert written["overall"]["correct"] == body["summaries"]["overall"]["correct"]
    assert set(written["per_kind"]) == {"same", "cross", "unanswerable"}


@pytest.mark.slow
def test_check_fails_below_the_baseline_and_passes_above_it(
    engine: Engine, questions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = tmp_path / "baseline.json"
    argv = ["--questions", str(questions), "--out", str(tmp_path / "r"), "--baseline", str(reference), "--no-progress"]
    # One question raises, so 100% correct is out of reach.
    reference.write_text(json.dumps({"overall": {"correct": 1.0}}), encoding="utf-8")
    assert main([*argv, "--check"], engine=engine) == 1
    assert "FAIL: overall correct-accuracy" in capsys.readouterr().out

    reference.write_text(json.dumps({"overall": {"correct": 0.0}}), encoding="utf-8")
    assert main([*argv, "--check"], engine=engine) == 0
    assert "OK: overall correct-accuracy" in capsys.readouterr().out
