"""The scale benchmark keeps working: its quick mode runs end to end and writes what it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.synthetic import articles, seeds, variant
from rag.corpus import parse_article
from rag.settings import PROJECT_ROOT


def test_synthetic_corpus_is_deterministic_and_varied() -> None:
    source = seeds()
    first = list(articles(45, 4, source))
    assert first == list(articles(45, 4, source))
    assert [name for name, _ in first] == ["a00000-en.txt", "a00001-zh.txt", "a00002-en.txt"]
    parsed = [parse_article(text, name) for name, text in first]
    assert [a.lang for a in parsed] == ["en", "zh", "en"]
    assert sum(p.kind == "paragraph" for p in parsed[2].paragraphs) == 5  # 45 = 20 + 20 + 5
    sentence = "At present, the city has a total of about 3.43 million talents in Suzhou since 2012."
    changed = variant(sentence, "en", "k", 1)
    assert variant(sentence, "en", "k", 0) == sentence and changed == variant(sentence, "en", "k", 1)
    assert changed != sentence and "Suzhou" not in changed and "3.43" not in changed


@pytest.mark.slow
def test_quick_run_writes_table_json_and_plot(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--quick", "--out", str(tmp_path), "--cache", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| warm ask() p50 · p95, ms |" in done.stdout
    run = json.loads((tmp_path / "scale.json").read_text())
    (result,) = run["sizes"]
    assert result["size"] == 300 and result["paragraphs"] >= 300
    assert result["ingest"]["sentences_per_s"] > 0 and 0 < result["ingest"]["share_of_embedder"] <= 1.5
    assert 0 < result["floor_ms"]["p50"] <= result["ask_ms"]["p95"]
    assert result["baseline"]["chunks"] > 0 and result["baseline_ms"]["p50"] > 0
    assert result["cold_start"]["median_s"] > 0 and result["peak_rss_mb"] > 0
    assert (tmp_path / "scale.png").stat().st_size > 10_000


def test_keyword_comparison_finds_the_same_top_sentences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.keyword import main

    assert main(["--sizes", "400", "--queries", "4", "--json", str(tmp_path / "keyword.json")]) == 0
    (result,) = json.loads((tmp_path / "keyword.json").read_text())
    assert result["sentences"] == 400 and result["same_top"] == "12/12" and result["max_score_difference"] < 1e-4
    assert result["update_sentences"]["removed"] > 0 and result["update_s"]["ours"] > 0
    assert "| 400 |" in capsys.readouterr().out
