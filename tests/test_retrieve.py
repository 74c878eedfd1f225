"""Retrieval: one reciprocal-rank fusion, and a query searched with its translations, over the seed articles."""

from __future__ import annotations

import pytest

from rag.engine import Engine
from rag.query import Query, understand
from rag.retrieve import Retriever, fuse

TALENTS = "How many talents does Suzhou have?"


def test_fuse_adds_up_ranks_and_keeps_ties_in_order_of_first_appearance() -> None:
    fused = fuse([["a", "b"], ["c", "b"]], k=60)
    assert list(fused) == ["b", "a", "c"]
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 62) and fused["a"] == fused["c"] == pytest.approx(1 / 61)


def test_fuse_weighs_each_ranking() -> None:
    fused = fuse([["a"], ["b", "a"]], k=10, weights=[1.0, 0.0])
    assert fused == {"a": pytest.approx(1 / 11), "b": 0.0}  # a ranking of weight 0 adds candidates, not rank


def test_a_query_and_its_translation_are_fused_by_rank(engine: Engine) -> None:
    index = engine.index
    retriever = Retriever(engine.store, engine.embedder, index, candidates=20, rrf_k=60)
    own = understand(TALENTS, engine.translator, index.vocabularies)
    translated = understand("苏州有多少人才？", engine.translator, index.vocabularies)
    alone, other = retriever.run(Query(own)), retriever.run(Query(translated))
    both = retriever.run(Query(own, (translated,)))
    expected = fuse([[hit.record.id for hit in alone], [hit.record.id for hit in other]], k=60)
    assert [hit.record.id for hit in both] == list(expected)
    assert [hit.score for hit in both] == pytest.approx(list(expected.values()))
    assert {hit.record.lang for hit in both[:5]} == {"en", "zh"}
    # A sentence both searches found keeps the best of its dense and keyword scores.
    found = {hit.record.id: hit for hit in [*alone, *other]}
    for hit in both:
        assert hit.dense == max(h.dense for h in [*alone, *other] if h.record.id == hit.record.id)
        assert hit.record == found[hit.record.id].record

