"""The README's quick start on a fresh virtual environment: `pip install -e '.[ui]'`, then each command the README
shows that runs offline in seconds ends well, without a traceback (optional parts say what to install)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

QUESTION = "How many talents does the city have?"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment (not sharing this one's packages) with the project installed as the README says."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    install = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "-e", f"{PROJECT_ROOT}[ui]"]
    done = subprocess.run(install, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a new user: no RAG_* setting, no PYTHONPATH, a store of its own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_", "PYTHON"))}
    return {**clean, "RAG_DATA_DIR": str(tmp_path_factory.mktemp("data"))}


def run(venv: Path, env: dict[str, str], *command: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    """Run one of the venv's commands from a folder outside the project; check its status and that it raised nothing."""
    program = str(venv / "bin" / command[0])
    done = subprocess.run([program, *command[1:]], capture_output=True, text=True, env=env, cwd=venv, timeout=600)
    assert done.returncode == status, (command, done.stdout[-2000:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr + done.stdout, (command, done.stderr[-3000:])
    return done


def test_the_readme_commands_run_in_a_fresh_install(venv: Path, env: dict[str, str], tmp_path: Path) -> None:
    assert "rag ask" in run(venv, env, "rag", "--help").stdout

    first = run(venv, env, "rag", "ask", QUESTION)  # an empty store: the seeds are ingested first, and it says so
    assert "First start: ingesting the seed articles" in first.stderr
    assert "3.43 million" in first.stdout and "■" not in first.stdout

    answer = json.loads(run(venv, env, "rag", "ask", "苏州高新区已累计集聚各类人才多少人？", "--json").stdout)
    assert answer["found"] and "26万" in answer["text"]
    assert "2 unchanged" in run(venv, env, "rag", "ingest").stdout

    snippet = f"from rag import ask\na = ask({QUESTION!r})\nprint(a.found, a.citations[0].quote in a.citations[0].text)"
    assert run(venv, env, "python", "-c", snippet).stdout.split() == ["True", "True"]

    # `rag eval` needs the `eval` extra only for its chart: without matplotlib it says so and scores all the same.
    has_matplotlib = run(venv, env, "python", "-c", "import importlib.util as u; print(bool(u.find_spec('matplotlib')))")
    evaluated = run(venv, env, "rag", "eval", "--limit", "2", "--no-progress", "--out", str(tmp_path / "eval"))
    assert "overall" in evaluated.stdout
    if has_matplotlib.stdout.strip() == "False":
        assert "chart:   skipped: matplotlib is not installed (pip install -e '.[eval]')" in evaluated.stdout
    assert (tmp_path / "eval" / "report.md").is_file()


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def page(venv: Path, env: dict[str, str]) -> Iterator[str]:
    """`rag chat` from the fresh install, on a free port; its URL once it says it is ready."""
    port = free_port()
    process = subprocess.Popen(
        [str(venv / "bin" / "rag"), "chat"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "RAG_PORT": str(port)},
        cwd=venv,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Chat page"):
                break
        assert lines and lines[-1].startswith("Chat page"), (lines, process.stderr.read() if process.stderr else "")  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)
        stderr = process.stderr.read() if process.stderr else ""
        assert "Traceback" not in stderr, stderr[-3000:]


def test_the_chat_page_of_a_fresh_install_answers(venv: Path, env: dict[str, str], page: str) -> None:
    code = (
        "import sys\nfrom gradio_client import Client\n"
        "print(Client(sys.argv[1], verbose=False).predict(sys.argv[2], api_name='/ask'))"  # JSON text
    )
    answer = json.loads(run(venv, env, "python", "-c", code, page, QUESTION).stdout)
    assert answer["found"] and "3.43 million" in answer["text"]
