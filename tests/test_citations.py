"""Citations: a source shown to the reader is a retrieved paragraph, quoted verbatim (`verify`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer import Answer, Citation
from rag.citations import cite, verify
from rag.engine import Engine
from rag.retrieve import Hit

TALENTS = "How many talents does Suzhou have?"


@pytest.fixture(scope="module")
def retrieved(engine: Engine) -> tuple[list[Hit], Citation]:
    """The hits for a question, and a citation of the best one's paragraph."""
    _, hits = engine.search(TALENTS)
    return hits, cite(1, [hits[0]], engine.index.paragraphs)


def test_an_answer_citing_retrieved_paragraphs_is_left_as_it_is(engine: Engine) -> None:
    answer = engine.ask(TALENTS)
    assert answer.found and answer.citations
    assert verify(answer, engine.search(TALENTS)[1]) == answer


def test_a_citation_of_a_paragraph_not_retrieved_is_removed_with_its_marker(
    retrieved: tuple[list[Hit], Citation],
) -> None:
    hits, real = retrieved
    elsewhere = replace(real, number=2, document="an-article-never-retrieved")
    answer = Answer(TALENTS, "Suzhou has about 3.43 million talents [1][2].", True, [real, elsewhere])
    checked = verify(answer, hits)
    assert checked.text == "Suzhou has about 3.43 million talents [1]." and checked.citations == [real]
    assert checked.found and checked.warnings == ["Removed citation [2]: it quotes no retrieved paragraph."]


def test_an_answer_left_citing_nothing_is_not_found(retrieved: tuple[list[Hit], Citation]) -> None:
    hits, real = retrieved
    invented = replace(real, quote="Suzhou has 9 million talents.")  # not in the paragraph it names
    checked = verify(Answer(TALENTS, "Suzhou has 9 million talents [1].", True, [invented]), hits)
    assert not checked.found and checked.citations == [] and "[1]" not in checked.text


def test_nearest_passages_not_retrieved_are_dropped(retrieved: tuple[list[Hit], Citation]) -> None:
    hits, real = retrieved
    stray = replace(real, number=2, paragraph=real.paragraph + 1000)
    answer = Answer(TALENTS, "The articles do not say.", False, nearest=[real, stray])
    assert verify(answer, hits).nearest == [real]
