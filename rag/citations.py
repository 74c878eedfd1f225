"""Citation markers: the one `[n]` pattern, numbering in order of first use, and checks against the sources."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer import Citation
from rag.retrieve import Hit, Index

MARKER = re.compile(r"\[(\d{1,3})\]")


def marker(number: int) -> str:
    """The marker written into answer text for citation `number`."""
    return f"[{number}]"


def defuse(quoted: str) -> str:
    """Article text quoted in an answer, with anything that reads as a citation marker ("[9]", "【9】") written as
    "(9)": a marker in an answer is the answerer's alone, never the article's."""
    return _MARKER_LIKE.sub(lambda m: f"({m.group(1)})", quoted)


_MARKER_LIKE = re.compile(r"[\[【]\s*(\d{1,3})\s*[\]】]")


def cited_numbers(text: str) -> list[int]:
    """Marker numbers in the order they first appear."""
    seen: list[int] = []
    for match in MARKER.finditer(text):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def strip_markers(text: str) -> str:
    """Answer text without its citation markers (markers are not figures)."""
    return re.sub(r"\s*" + MARKER.pattern, "", text)


def cite(number: int, hits: Sequence[Hit], index: Index) -> Citation:
    """A citation of the paragraph of `hits[0]`, quoting the sentences of all `hits` (same paragraph) verbatim."""
    record = hits[0].record
    paragraph = index.paragraphs[record.paragraph_id]
    ordered = sorted(hits, key=lambda hit: hit.record.start)
    quote = paragraph[ordered[0].record.start : ordered[-1].record.end]
    return Citation(
        number=number,
        document=record.document,
        title=record.title,
        paragraph=record.paragraph,
        text=paragraph,
        quote=quote,
        score=round(max(hit.score for hit in hits), 6),
        lang=record.lang,
        kind=record.kind,
    )
