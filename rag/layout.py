"""Where rag's parts are: a repository checkout keeps seeds/, prompts/, ui/ and evals/ beside rag/; the wheel
installs them inside it (rag/seeds, rag.ui, …: pyproject's package-dir), so an install adds one top-level package."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent  # the checkout (site-packages when rag is installed from a wheel)


def installed() -> bool:
    """Whether rag runs from an installed wheel rather than a checkout."""
    return (PACKAGE / "prompts").is_dir()


def bundled(name: str) -> Path:
    """A folder shipped with rag (`seeds`, `prompts`), wherever this rag runs from."""
    return (PACKAGE if installed() else PROJECT_ROOT) / name


def default_data_dir() -> Path:
    """`.rag-data` in the checkout; in the home folder when installed (site-packages is no place for a store)."""
    return Path.home() / ".rag-data" if installed() else PROJECT_ROOT / ".rag-data"


def part(module: str) -> ModuleType:
    """`ui.app` or `evals.run` of the same tree as this rag: rag.ui.app, rag.evals.run as installed.

    A checkout on sys.path (PYTHONPATH) imports its own ui/ and evals/ folders as `ui`, `evals`; `rag.ui` would
    come from wherever the environment's editable install was made, which may be another checkout.
    """
    top = module.split(".")[0]
    spec = None if installed() else importlib.util.find_spec(top)
    if spec is not None and spec.origin and Path(spec.origin).resolve().is_relative_to(PROJECT_ROOT / top):
        return importlib.import_module(module)
    return importlib.import_module(f"rag.{module}")
