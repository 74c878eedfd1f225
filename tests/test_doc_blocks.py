"""Every Python and shell code block of README.md and docs/*.md runs, so a documented call cannot silently break.

A block that needs what a test run has not (a running page or Chroma server, an API key, minutes of work, a new
venv) says so on the line before it, `<!-- not run: the reason -->`, and is reported as skipped with that reason.
The others run in order, each in a fresh process, in one scratch folder with a store of its own (the first one
ingests the seed articles), the way a reader would paste them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.settings import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(python|bash|sh|shell)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->\s*$")
SEEDS_USED = ("suzhou-organizational-work-en.txt",)  # what the blocks ask about; one article ingests in half the time


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, its code, and why it is not run (empty: it runs)."""

    page: Path
    line: int
    lang: str
    code: str
    not_run: str

    @property
    def name(self) -> str:
        return f"{self.page.name}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The Python and shell blocks of a Markdown page."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        reason = NOT_RUN.search(before)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page, line, match.group(1), match.group(2), reason.group(1) if reason else ""))
    return found


ALL = [block for page in PAGES for block in blocks(page)]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A folder to run blocks in, and their environment: a store of their own, the seeds, this venv's commands."""
    folder = tmp_path_factory.mktemp("docs")
    articles = folder / "my-articles"
    articles.mkdir()
    (articles / "harbour.md").write_text(
        "---\ntitle: Harbour report\n---\nThe port authority hired 350 new pilots in 2023.\n", encoding="utf-8"
    )
    seeds = folder / "seeds"
    seeds.mkdir()
    for name in SEEDS_USED:
        shutil.copy(PROJECT_ROOT / "seeds" / name, seeds / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(
        RAG_DATA_DIR=str(folder / "data"),
        RAG_SEEDS_DIR=str(seeds),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return folder, env


def test_every_block_not_run_says_why_and_some_run() -> None:
    pages = {page: page.read_text(encoding="utf-8") for page in PAGES}
    markers = sum(len(re.findall(r"<!--\s*not run:", text)) for text in pages.values())
    assert markers == sum(1 for b in ALL if b.not_run), "a `not run:` marker without a reason, or not before a block"
    assert len([b for b in ALL if not b.not_run]) >= 4


@pytest.mark.parametrize("block", ALL, ids=lambda b: b.name)
def test_the_block_runs(block: Block, scratch: tuple[Path, dict[str, str]]) -> None:
    if block.not_run:
        pytest.skip(f"not run: {block.not_run}")
    folder, env = scratch
    command = [sys.executable, "-c", block.code] if block.lang == "python" else ["bash", "-e", "-c", block.code]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"{block.name} failed:\n{block.code}\n--- stdout\n{done.stdout[-2000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
