"""Prompt templates: each file's placeholders are exactly what the code fills, and filling checks them."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer import NOT_FOUND
from rag.layout import bundled
from rag.prompts import PromptError, fill, load, placeholders, render

# What rag/llm.py passes to each template; a template that drops or adds a placeholder fails here first.
EXPECTED = {
    "system": {"canary", "not_found_en", "not_found_zh"},
    "answer": {"sources", "fence", "count", "question"},
    "summary": {"sources", "fence", "count", "question"},
    "source": {"number", "fence", "title", "paragraph", "text"},
    "condense": {"history", "question", "draft"},
    "turn": {"question", "answer"},
    "translate": {"language", "question"},
}


def test_every_template_has_the_placeholders_the_code_fills() -> None:
    found = {path.stem: placeholders(load(path.stem)) for path in bundled("prompts").glob("*.txt")}
    assert found == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_template_renders(name: str) -> None:
    text = render(name, **{key: f"<{key}>" for key in EXPECTED[name]})
    assert all(f"<{key}>" in text for key in EXPECTED[name])
    assert "{" not in text.replace("{{", "")


def test_not_found_phrases_come_from_the_code_not_the_template() -> None:
    template = load("system")
    assert not any(phrase in template for phrase in NOT_FOUND.values())
    system = render("system", canary="c", not_found_en=NOT_FOUND["en"], not_found_zh=NOT_FOUND["zh"])
    assert f'"{NOT_FOUND["en"]}"' in system and f'"{NOT_FOUND["zh"]}"' in system


def test_missing_and_extra_values_are_refused() -> None:
    with pytest.raises(PromptError, match=r"missing \['question'\]"):
        render("translate", language="Chinese")
    with pytest.raises(PromptError, match=r"unused \['tone'\]"):
        render("translate", language="Chinese", question="?", tone="formal")


def test_fill_keeps_literal_braces_and_values_verbatim() -> None:
    assert fill("{{json}} {name}", name="{question}") == "{json} {question}"


@pytest.mark.parametrize("template", ["{0}", "{a.b}", "{a[0]}", "{a:>3}", "{a!r}", "{", "}"])
def test_anything_but_plain_names_is_refused(template: str) -> None:
    with pytest.raises(PromptError):
        placeholders(template)


@pytest.mark.parametrize("name", ["nope", "../pyproject", "system.txt"])
def test_unknown_templates_are_refused(name: str) -> None:
    with pytest.raises(PromptError, match="No prompt template"):
        load(name)


def test_templates_are_read_at_call_time(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("Hello {name}\n", encoding="utf-8")
    assert load("hello", tmp_path) == "Hello {name}"
    (tmp_path / "hello.txt").write_text("Hi {name}\n", encoding="utf-8")
    assert load("hello", tmp_path) == "Hi {name}"
