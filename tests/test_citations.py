"""Citation markers (rag/citations.py): the one `[n]` pattern, numbers in order of first use, markers stripped
from a statement, marker look-alikes in quoted article text defused; and `verify`: a source shown to the reader is a
retrieved paragraph, quoted verbatim."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer import Answer, Citation
from rag.citations import MARKER, cite, cited_numbers, defuse, marker, strip_markers, verify
from rag.engine import Engine
from rag.retrieve import Hit

TALENTS = "How many talents does Suzhou have?"


def test_a_marker_is_the_citation_number_in_brackets() -> None:
    assert marker(3) == "[3]"
    found = MARKER.fullmatch(marker(12))
    assert found is not None and found.group(1) == "12"


def test_cited_numbers_come_in_order_of_first_use() -> None:
    assert cited_numbers("3.43 million talents [2], 340,000 high-level [1][2]. [10]") == [2, 1, 10]
    assert cited_numbers("No source: [x], [1000], (3).") == []


def test_strip_markers_leaves_the_figures_and_the_full_stop() -> None:
    assert strip_markers("Suzhou has 3.43 million talents [1][2].") == "Suzhou has 3.43 million talents."
    assert strip_markers("截至目前，集聚人才26万人 [1]。") == "截至目前，集聚人才26万人。"


def test_defuse_writes_what_reads_as_a_marker_in_quoted_text_as_a_number_in_parentheses() -> None:
    assert defuse("see [9], 【12】 and [ 3 ] of 2021") == "see (9), (12) and (3) of 2021"
    assert cited_numbers(defuse("an article citing [9]")) == []


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
