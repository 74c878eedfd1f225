"""rag.layout in a checkout: seeds and prompts beside rag/, and the checkout's own ui/ and evals/ (the installed
layout is tested on a real wheel in test_package.py)."""

from __future__ import annotations

import importlib

from rag.layout import PROJECT_ROOT, bundled, default_data_dir, installed, part
from rag.settings import Settings


def test_a_checkout_finds_its_seeds_prompts_and_store_beside_rag() -> None:
    assert not installed()
    assert bundled("seeds") == PROJECT_ROOT / "seeds" and (bundled("prompts") / "system.txt").is_file()
    assert default_data_dir() == PROJECT_ROOT / ".rag-data"
    defaults = {name: f.get_default(call_default_factory=True) for name, f in Settings.model_fields.items()}
    assert defaults["seeds_dir"] == bundled("seeds") and defaults["data_dir"] == default_data_dir()


def test_the_cli_gets_this_checkouts_ui_and_evals() -> None:
    run = part("evals.run")
    assert run is importlib.import_module("evals.run")  # the module the tests import, not a second copy
    assert run.__file__ is not None and run.__file__.startswith(str(PROJECT_ROOT / "evals"))
