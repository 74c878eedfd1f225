"""Citation markers (rag/citations.py): the one `[n]` pattern, numbers in order of first use, markers stripped
from a statement, and marker look-alikes in quoted article text defused."""

from __future__ import annotations

from rag.citations import MARKER, cited_numbers, defuse, marker, strip_markers


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
