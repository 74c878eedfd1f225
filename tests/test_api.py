"""The public API of `rag/__init__.py`: `ask` and `ingest` are the documented functions whatever was imported
before them (issue #26.1: once the engine was loaded, the submodule rag/ingest.py replaced `rag.ingest`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ARTICLE = """---
title: Harbour report
---
The harbour handled 4,200 ships last year, more than ever before.
"""


def test_rag_ingest_is_the_function_after_the_engine_is_imported(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "harbour.md").write_text(ARTICLE, encoding="utf-8")
    # A fresh interpreter, so what this test session imported does not decide the outcome.
    script = textwrap.dedent(
        f"""
        import rag
        import rag.engine  # what `rag.ask` and the chat page load first
        from rag import ask, ingest
        assert ingest is rag.ingest and callable(rag.ingest), rag.ingest
        report = rag.ingest({str(folder)!r})
        print(report.added)
        answer = ask("How many ships did the harbour handle?")
        print(answer.found, answer.citations[0].document)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_DATA_DIR": str(tmp_path / "data"), "RAG_SEEDS_DIR": str(folder)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["['harbour']", "True harbour"]
