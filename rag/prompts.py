"""Prompt templates: text files in prompts/, read at call time, with `{name}` placeholders checked on every fill."""

from __future__ import annotations

import string
from pathlib import Path

from rag.layout import bundled


class PromptError(ValueError):
    """A template that is missing, malformed, or filled with the wrong values."""


def load(name: str, folder: Path | None = None) -> str:
    """The template `name` (prompts/<name>.txt, or `folder`/<name>.txt), read now, without the final newline."""
    folder = bundled("prompts") if folder is None else folder
    path = folder / f"{name}.txt"
    if not name.isidentifier() or not path.is_file():
        raise PromptError(f"No prompt template {name!r} in {folder}")
    return path.read_text(encoding="utf-8").removesuffix("\n")


def placeholders(template: str) -> set[str]:
    """The names of a template's `{name}` placeholders; anything but a plain name (`{0}`, `{a.b}`, `{a:>3}`) is refused."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise PromptError(f"Malformed template ({error}); write literal braces as {{{{ and }}}}") from error
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise PromptError(f"Placeholder {{{field}}} must be a plain name, like {{question}}")
        names.add(field)
    return names


def render(name: str, /, **values: object) -> str:
    """Template `name` from prompts/, filled with `values` (see `fill`)."""
    try:
        return fill(load(name), **values)
    except PromptError as error:
        raise PromptError(f"Prompt {name!r}: {error}") from None


def fill(template: str, /, **values: object) -> str:
    """`template` filled with `values`; every placeholder must get a value and every value a placeholder."""
    wanted = placeholders(template)
    missing, extra = wanted - values.keys(), values.keys() - wanted
    if missing or extra:
        problems = [f"missing {sorted(missing)}" if missing else "", f"unused {sorted(extra)}" if extra else ""]
        raise PromptError("Prompt values do not match its placeholders: " + "; ".join(p for p in problems if p))
    return template.format(**values)
