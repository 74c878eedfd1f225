"""Verdicts and kept conversations on the chat page (ui/feedback.py, ui/history.py): the `/feedback` API, the
per-client allowance, the browser's copy of the conversations; and, in Chromium, 👎 with a correction, a reload, a
conversation reopened from the list, then `rag eval --feedback` failing until the articles say what the reader said."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from playwright.sync_api import expect, sync_playwright

from evals.run import main as eval_main
from rag.engine import Engine
from rag.feedback import feedback_path, read
from rag.settings import PROJECT_ROOT, Settings
from tests.conftest import CountingE5
from tests.test_ui import CHROMIUM, CHROMIUM_ARGS, QUESTION, TURNS, free_port
from tests.test_ui_api import serve
from ui.history import answer_of, choices, conversations, kept, secret

TALENTS = "How many talents does the city have?"


@pytest.fixture(scope="module")
def verdicts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the page of this module keeps its verdicts (the session's store is not written)."""
    return tmp_path_factory.mktemp("verdicts")


@pytest.fixture(scope="module")
def client(engine: Engine, settings: Settings, verdicts_dir: Path) -> Iterator[Client]:
    """A gradio_client on a chat page over the seed articles."""
    app = serve(engine, settings.model_copy(update={"data_dir": verdicts_dir}))
    yield Client(str(app.local_url), verbose=False)
    app.close()


def test_the_feedback_api_keeps_a_verdict_with_its_answer_and_bounds_a_client(client: Client) -> None:
    def judge(*verdict: str) -> dict[str, Any]:
        said = json.loads(client.predict(TALENTS, *verdict, api_name="/feedback"))  # JSON text, like the MCP tool's
        assert isinstance(said, dict)
        return said

    assert judge("up")["stored"] is True
    kept_now = judge("down", "3.5 million", "suzhou-organizational-work-en#8")
    assert kept_now["stored"] is True and "3.43 million" in kept_now["answer"]
    assert judge("sideways")["stored"] is False
    refused = [judge("up")["stored"] for _ in range(29)]
    assert refused.count(True) == 28 and refused[-1] is False  # 30 per client per hour


def test_the_feedback_file_holds_what_the_api_was_told(client: Client, verdicts_dir: Path) -> None:
    feedback = read(feedback_path(verdicts_dir))
    assert feedback.problems == [] and len(feedback.verdicts) == 30
    down = feedback.verdicts[1]
    assert (down.verdict, down.correction, down.kind, down.answerer) == ("down", "3.5 million", "figure", "offline")
    assert down.source is not None and (down.source.document, down.source.paragraph) == (
        "suzhou-organizational-work-en",
        8,
    )
    assert down.citations[0].paragraph == 8 and "3.43 million" in down.citations[0].quote


def test_conversations_are_kept_per_user_newest_first(engine: Engine, tmp_path: Path) -> None:
    first = engine.ask(TALENTS).to_dict()
    saved = kept({}, "ann", "c1", [first])
    saved = kept(saved, "bob", "c2", [first, first])
    saved = kept(saved, "ann", "c3", [first])
    assert [c["id"] for c in conversations(saved, "ann")] == ["c3", "c1"]
    assert [c["id"] for c in conversations(saved, "bob")] == ["c2"] and conversations(saved, "") == []
    assert choices(saved, "ann")[0][0].endswith(TALENTS)
    assert conversations("tampered", "ann") == [] and conversations({"ann": [1, "x"]}, "ann") == []
    assert answer_of(first).to_dict() == first
    assert answer_of(first).citations[0].paragraph == 8
    assert secret(tmp_path) == secret(tmp_path) and (tmp_path / "ui-secret").stat().st_mode & 0o077 == 0


HARBOUR = """---
title: Harbour report
---
The harbour handled 4.2 million containers in 2023, up from 3.9 million a year earlier.

The port authority hired {pilots} new pilots and opened two berths.
"""
PILOTS = "How many new pilots did the port authority hire?"


@pytest.mark.browser
def test_a_wrong_answer_corrected_in_the_page_becomes_a_case_that_passes_once_the_articles_say_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    (seeds / "harbour.md").write_text(HARBOUR.format(pilots=350), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RAG_DATA_DIR": str(data),
        "RAG_SEEDS_DIR": str(seeds),
        "RAG_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.app"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    try:
        url = None
        while url is None:
            match = re.search(rf"http://127\.0\.0\.1:{port}/", lines.get(timeout=180))
            url = match.group(0) if match else None
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            page.wait_for_selector(QUESTION)
            page.fill(QUESTION, PILOTS)
            page.press(QUESTION, "Enter")
            answer = page.locator(TURNS).nth(0)
            answer.wait_for(timeout=60_000)
            expect(answer).to_contain_text("350")
            page.locator("#rag-chat").get_by_label("Dislike").first.click()
            expect(page.locator("#rag-feedback")).to_be_visible(timeout=10_000)
            page.fill("#rag-correction textarea", "380")
            page.locator("#rag-right-source input").click()
            page.get_by_role("option").filter(has_text="paragraph 2").first.click()
            page.click("#rag-feedback-send")
            expect(page.locator("#rag-feedback-status")).to_contain_text("Correction kept", timeout=10_000)

            page.reload()  # the conversation comes back from the browser
            page.wait_for_selector(QUESTION)
            expect(page.locator(TURNS).nth(0)).to_contain_text("350", timeout=20_000)
            page.click("#rag-new-chat")
            expect(page.locator(TURNS)).to_have_count(0, timeout=10_000)
            page.locator("#rag-conversation-list input").click()
            page.get_by_role("option").filter(has_text=PILOTS).first.click()
            expect(page.locator(TURNS).nth(0)).to_contain_text("350", timeout=20_000)
            expect(page.locator("#rag-export")).to_be_enabled()  # the export works on a reopened conversation
            chromium.close()
    finally:
        process.terminate()
        process.wait(timeout=30)

    (verdict,) = read(feedback_path(data)).verdicts
    assert (verdict.verdict, verdict.correction, verdict.source and verdict.source.paragraph) == ("down", "380", 2)
    settings = Settings(data_dir=data, seeds_dir=seeds, _env_file=None)  # type: ignore[call-arg]
    engine = Engine(settings, embedder=CountingE5())
    assert eval_main(["--feedback"], engine=engine) == 1
    assert "0 of 1 scored verdicts hold" in capsys.readouterr().out
    (seeds / "harbour.md").write_text(HARBOUR.format(pilots=380), encoding="utf-8")
    engine.ingest()
    assert eval_main(["--feedback"], engine=engine) == 0
    assert "1 of 1 scored verdicts hold" in capsys.readouterr().out
