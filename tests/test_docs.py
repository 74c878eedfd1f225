"""The documentation: the README stays short, every link in it and in docs/ leads somewhere, every setting is listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic.fields import FieldInfo

from rag.settings import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
DOCS = sorted((PROJECT_ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def setting_row(name: str, field: FieldInfo) -> str:
    """The line of docs/configuration.md's table for one setting (how that table was generated)."""
    default = field.get_default(call_default_factory=True)
    if default is None:
        shown = "unset"
    elif isinstance(default, Path):
        shown = (
            f"`{default.relative_to(PROJECT_ROOT)}/` in the project"
            if default.is_relative_to(PROJECT_ROOT)
            else f"`{default}`"
        )
    elif isinstance(default, bool):
        shown = f"`{str(default).lower()}`"
    else:
        shown = f"`{default}`"
    return f"| `RAG_{name.upper()}` | {shown} | {field.description} |"


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_readme_fits_in_12_kb() -> None:
    size = len(README.read_bytes())
    assert size <= 12 * 1024, f"README.md is {size:,} bytes: move details to docs/"


@pytest.mark.parametrize("page", [README, *DOCS, PROJECT_ROOT / "evals" / "README.md"], ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https://, mailto: …
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


def test_every_setting_is_listed_in_docs_configuration() -> None:
    listed = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [setting_row(n, f) for n, f in Settings.model_fields.items() if setting_row(n, f) not in listed]
    assert not missing, "docs/configuration.md lacks (or has another default or description for):\n" + "\n".join(
        missing
    )
