"""The answer a reader gets: text with [n] markers, and the paragraphs those markers cite."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """One numbered source: an article paragraph that was really retrieved, and the sentence(s) quoted."""

    number: int
    document: str
    title: str
    paragraph: int
    text: str
    quote: str
    score: float = 0.0
    lang: str = ""
    kind: str = "paragraph"
    source: str = ""  # the article's file name, or the link it was fetched from
    page: int | None = None  # for a PDF: the page the paragraph starts on
    page_paragraph: int | None = None  # for a PDF: the paragraph's number among those starting on that page
    published: str = ""  # the article's publication date, when known


@dataclass(frozen=True)
class Answer:
    """What `ask()` returns."""

    question: str
    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    backend: str = "offline"
    seconds: float = 0.0
    # When the articles do not say: the paragraphs that come closest to the question, for the reader to judge.
    # They support nothing and the text has no markers for them; empty for a found answer.
    nearest: list[Citation] = field(default_factory=list)
    # A follow-up answered offline: the question as searched, with the earlier subject carried in ("And how many
    # of them are nurses? (staff, Oakdale)"); "" when the question was read as it stands.
    read_as: str = ""
    # What kind of answer this is: "figure" (a figure quoted from its sentence), "fact" (the sentence that answers
    # a who/what/why/how question), "summary" (an article in a few cited sentences), "none" (not found).
    kind: str = "none"

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON data, every field of it and of its citations: the one shape `rag ask --json`, the
        page's `/ask` API, its conversation export and the evaluation's results share."""
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


class LLMError(RuntimeError):
    """The chat model failed; the message is the notice the reader gets with the offline answer instead."""


NOT_FOUND = {
    "en": "The articles do not say.",
    "zh": "文章中没有提到。",
}
"""The one refusal phrase per language: the extractive answerer writes it, the LLM is told to, tests look for it."""


def not_found(question: str, lang: str, note: str | None = None, backend: str = "offline") -> Answer:
    """An answer that says the articles do not say (with an optional plain-words note instead)."""
    return Answer(
        question=question, text=note or NOT_FOUND.get(lang, NOT_FOUND["en"]), found=False, backend=backend, kind="none"
    )
