"""Citation markers: the one `[n]` pattern, numbering in order of first use, and checks against the sources."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.answer import Answer, Citation

if TYPE_CHECKING:
    from rag.retrieve import Hit

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


def cite(number: int, hits: Sequence[Hit], paragraphs: Mapping[str, str]) -> Citation:
    """A citation of the paragraph of `hits[0]` (its text in `paragraphs`, by paragraph id), quoting the sentences of
    all `hits` (same paragraph) verbatim."""
    record = hits[0].record
    paragraph = paragraphs[record.paragraph_id]
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


def verify(answer: Answer, hits: Sequence[Hit]) -> Answer:
    """The answer less any citation or nearest passage that is not a retrieved paragraph quoted verbatim: each
    citation dropped (and its marker) is warned of, and an answer left citing nothing is not found."""
    retrieved = {(hit.record.document, hit.record.paragraph) for hit in hits}

    def genuine(citation: Citation) -> bool:
        return (citation.document, citation.paragraph) in retrieved and citation.quote in citation.text

    dropped = [c for c in answer.citations if not genuine(c)]
    nearest = [c for c in answer.nearest if genuine(c)]
    if not dropped and len(nearest) == len(answer.nearest):
        return answer
    text = answer.text
    for citation in dropped:
        text = re.sub(r"\s*" + re.escape(marker(citation.number)), "", text)
    citations = [c for c in answer.citations if genuine(c)]
    warnings = [f"Removed citation {marker(c.number)}: it quotes no retrieved paragraph." for c in dropped]
    return replace(
        answer,
        text=text,
        found=answer.found and bool(citations),
        citations=citations,
        nearest=nearest,
        warnings=[*answer.warnings, *warnings],
    )
