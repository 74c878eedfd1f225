"""The keyword index (rag/keyword.py): BM25 as bm25s scores it, searched, reordered and joined."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from rag.engine import Engine
from rag.keyword import KeywordIndex
from rag.text import tokenize

QUERIES = [
    {"talent": 1.0, "suzhou": 1.0},
    {"人才": 1.0, "高新区": 1.0, "talent": 0.5},
    {"party": 1.0, "build": 1.0, "党建": 0.9},
    {"nowhere-to-be-found": 1.0},
]


@pytest.mark.parametrize("terms", QUERIES)
def test_scores_are_bm25s_scores(engine: Engine, terms: dict[str, float]) -> None:
    sentences = [tokenize(record.text) for record in engine.index.records]
    reference = bm25s.BM25()
    reference.index([words or ["<empty>"] for words in sentences], show_progress=False)
    expected = np.zeros(len(sentences), np.float32)
    for term, weight in terms.items():
        if any(term in words for words in sentences):
            expected += weight * reference.get_scores([term])
    index = KeywordIndex.build(sentences)
    assert np.allclose(index.scores(terms), expected, atol=1e-6)
    assert np.allclose(engine.index.keyword.scores(terms), expected, atol=1e-6)


def test_search_ranks_by_score_and_drops_zero(engine: Engine) -> None:
    keyword = engine.index.keyword
    found = keyword.search({"talent": 1.0}, 5)
    assert 0 < len(found) <= 5
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True) and min(scores) > 0
    assert all("talent" in tokenize(engine.index.records[i].text) for i, _ in found)
    assert keyword.search({"nowhere-to-be-found": 1.0}, 5) == []


def test_subset_and_join_score_like_a_fresh_build() -> None:
    sentences = [["a", "b"], ["b", "c", "c"], [], ["d"], ["a", "d", "e"]]
    built = KeywordIndex.build(sentences)
    reordered = built.subset(np.array([4, 0, 3]))
    assert [reordered.sentence_terms(i) for i in range(3)] == [sentences[4], sentences[0], sentences[3]]
    assert "c" not in reordered.document_frequency and reordered.document_frequency["d"] == 2
    joined = reordered.joined(KeywordIndex.build([sentences[1], sentences[2]]))
    fresh = KeywordIndex.build([sentences[4], sentences[0], sentences[3], sentences[1], sentences[2]])
    for terms in ({"a": 1.0}, {"c": 1.0, "d": 0.5}, {"e": 2.0, "b": 1.0}):
        assert np.allclose(joined.scores(terms), fresh.scores(terms))
    assert joined.document_frequency == fresh.document_frequency
