"""The summary answerer (rag/answerers/summary.py): which article a summary question is of, and its 3-5 central
sentences quoted in reading order with their citations, over the seed articles in a real store."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.answerers.summary import FEWEST, MOST, MOST_CHARS, SummaryAnswerer, lexrank
from rag.engine import Engine
from rag.query import Query
from rag.question import analyse
from rag.retrieve import Hit
from rag.settings import Settings
from tests.conftest import SEEDS, CountingE5

ENGLISH = "suzhou-organizational-work-en"
CHINESE = "suzhou-high-tech-zone-zh"


@pytest.mark.parametrize(
    ("question", "document"),
    [
        ("What is the English article about?", ENGLISH),
        ("What is the Chinese article about?", CHINESE),
        ("这篇中文文章讲了什么？", CHINESE),
        ("Summarize the report on the High-tech Zone", CHINESE),
    ],
)
def test_a_summary_cites_at_least_three_paragraphs_of_the_article_asked_and_none_of_another(
    engine: Engine, question: str, document: str
) -> None:
    answer = engine.ask(question)
    assert answer.found and answer.kind == "summary"
    assert {c.document for c in answer.citations} == {document}
    assert len({c.paragraph for c in answer.citations}) >= FEWEST


def test_a_summary_is_three_to_five_sentences_quoted_verbatim_in_reading_order(engine: Engine) -> None:
    answer = engine.ask("What is the English article about?")
    quotes = [c.quote for c in answer.citations]
    assert FEWEST <= len(quotes) <= MOST
    assert [c.paragraph for c in answer.citations] == sorted(c.paragraph for c in answer.citations)
    assert [c.number for c in answer.citations] == list(range(1, len(quotes) + 1))
    assert all(c.quote and c.quote in c.text and c.quote.strip() in answer.text for c in answer.citations)
    assert sum(len(q) for q in quotes) <= MOST_CHARS
    assert all(c.kind == "paragraph" for c in answer.citations)  # headings, captions and bylines are skipped
    assert all(f"[{c.number}]" in answer.text for c in answer.citations)


def test_nothing_pointing_at_one_of_several_articles_lists_their_titles(engine: Engine) -> None:
    answer = engine.ask("What is the article about?")
    assert not answer.found and answer.kind == "none" and answer.citations == []
    for title in engine.index.titles.values():
        assert title in answer.text
    assert answer.nearest  # each article's closest passage, to judge from


def test_a_subject_no_article_mentions_points_at_none(engine: Engine) -> None:
    answer = engine.ask("Summarize the report on France")
    assert not answer.found and answer.citations == []


def test_the_article_the_reader_chose_is_summarised_whatever_the_question_says(engine: Engine) -> None:
    answer = engine.ask("What is the English article about?", document=CHINESE)
    assert answer.found and {c.document for c in answer.citations} == {CHINESE}


def test_with_one_article_in_the_library_that_one_is_summarised(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / f"{ENGLISH}.txt", Path(fresh_settings.seeds_dir) / f"{ENGLISH}.txt")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    answer = engine.ask("What is the article about?")
    assert answer.found and answer.kind == "summary"
    assert {c.document for c in answer.citations} == {ENGLISH} and len(answer.citations) >= FEWEST
    engine.close()


def test_the_answerer_summarises_the_article_of_the_hits_it_is_given(engine: Engine) -> None:
    index = engine.index
    hits = [Hit(record, 0.0, 0.0, 0.0) for record in index.sentences(CHINESE)]
    queries = engine.embedder.queries
    answer = SummaryAnswerer(index, engine.store).run(Query(analyse("概括一下")), hits)
    assert engine.embedder.queries == queries  # nothing embedded: the stored vectors are read
    assert answer.found and {c.document for c in answer.citations} == {CHINESE}
    assert answer.text.count("[") == len(answer.citations)


def test_stored_vectors_are_read_by_sentence(engine: Engine) -> None:
    records = engine.index.sentences(ENGLISH)[:3]
    vectors = engine.store.vectors("en", [r.id for r in records] + ["no-such-sentence"])
    assert set(vectors) == {r.id for r in records}
    assert all(len(v) == 384 and abs(np.linalg.norm(v) - 1.0) < 0.05 for v in vectors.values())


def test_lexrank_ranks_the_sentence_most_like_the_others_first() -> None:
    likeness = np.array([[1.0, 0.9, 0.9, 0.9], [0.9, 1.0, 0.5, 0.5], [0.9, 0.5, 1.0, 0.5], [0.9, 0.5, 0.5, 1.0]])
    ranks = lexrank(likeness)
    assert int(np.argmax(ranks)) == 0 and abs(float(ranks.sum()) - 1.0) < 1e-6
    # A prior on the lead moves centrality towards it among equals.
    even = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.8], [0.8, 0.8, 1.0]])
    assert int(np.argmax(lexrank(even, np.array([3.0, 1.0, 1.0])))) == 0
