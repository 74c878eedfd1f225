"""The wheel: `pip install rag-….whl` (not editable) in a fresh virtual environment answers from any folder over the
seeds and prompts it ships, and adds no top-level package but `rag` (ui/ and evals/ install as rag.ui, rag.evals)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rag.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

QUESTION = "How many talents does the city have?"

# Never copied into the build: stores, caches and earlier builds (a stale build/lib would end up in the wheel).
LEFT_OUT = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "cache", "results", "tests")


def clean_env() -> dict[str, str]:
    """The environment without RAG_* settings and PYTHONPATH (pip would take a checkout on it for an install)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_", "PYTHON"))}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from a clean copy of the project."""
    source = tmp_path_factory.mktemp("source") / "rag"
    shutil.copytree(PROJECT_ROOT, source, ignore=LEFT_OUT)
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)]
    done = subprocess.run(build, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (found,) = out.glob("rag-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A new virtual environment with the wheel installed (its core dependencies only, from pip's usual index)."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    install = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)]
    done = subprocess.run(install, capture_output=True, text=True, env=clean_env(), timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def test_the_wheel_ships_seeds_and_prompts_inside_rag_and_no_other_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"rag", "rag-0.1.0.dist-info"}
    for folder in ("seeds", "prompts"):
        shipped = {n.removeprefix(f"rag/{folder}/") for n in names if n.startswith(f"rag/{folder}/")}
        assert shipped == {p.name for p in (PROJECT_ROOT / folder).glob("*.txt")}, folder
    assert {"rag/ui/app.py", "rag/ui/app.css", "rag/evals/run.py", "rag/evals/questions.jsonl"} <= set(names)
    assert {"rag/answerers/figure_model.json", "rag/glossary.u8"} <= set(names)


def test_the_installed_wheel_answers_from_another_folder(venv: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"  # the store's default place when installed is ~/.rag-data
    home.mkdir()
    env = {**clean_env(), "HOME": str(home)}

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(venv / "bin" / command[0]), *command[1:]], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stdout[-2000:], done.stderr)
        return done

    answer = run("rag", "ask", QUESTION)
    assert "First start: ingesting the seed articles from " + str(venv) in answer.stderr
    assert "3.43 million" in answer.stdout and "[1] " in answer.stdout
    assert (home / ".rag-data").is_dir()

    code = "import rag.layout, rag.prompts\nprint(rag.layout.bundled('prompts'))\nprint(rag.prompts.load('system'))"
    folder, _, system = run("python", "-c", code).stdout.partition("\n")
    assert Path(folder).is_relative_to(venv)
    assert system == (PROJECT_ROOT / "prompts" / "system.txt").read_text(encoding="utf-8")

    evaluated = run("rag", "eval", "--limit", "2", "--no-progress")  # its results go to the working folder
    assert "overall" in evaluated.stdout and (tmp_path / "rag-eval-results" / "report.md").is_file()
