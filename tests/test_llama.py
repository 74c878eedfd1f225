"""rag.llama through llama-index's own API: retrieve(), query(), and the retriever inside llama-index's query engine."""

from __future__ import annotations

import asyncio

from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import QueryBundle

from rag.engine import Engine
from rag.llama import EngineQueryEngine, EngineRetriever

QUESTION = "How many talents does the city have?"


def test_the_retriever_returns_the_paragraphs_of_the_engines_hits_best_first(engine: Engine) -> None:
    nodes = EngineRetriever(engine, top_k=3).retrieve(QUESTION)
    _, hits = engine.search(QUESTION)
    assert [n.node.node_id for n in nodes] == list(dict.fromkeys(h.record.paragraph_id for h in hits))[:3]
    assert nodes[0].node.metadata["sentence"] == hits[0].record.text and nodes[0].score == hits[0].score
    scores = [n.score or 0.0 for n in nodes]
    assert scores == sorted(scores, reverse=True)
    assert all(n.node.metadata["sentence"] in n.node.get_content() for n in nodes)

    cited = engine.ask(QUESTION).citations[0]
    wider = EngineRetriever(engine, top_k=40).retrieve(QueryBundle(QUESTION))
    assert (cited.document, cited.paragraph, cited.text) in {
        (n.node.metadata["document"], n.node.metadata["paragraph"], n.node.get_content()) for n in wider
    }


def test_the_query_engine_answers_with_one_source_node_per_citation(engine: Engine) -> None:
    response = EngineQueryEngine(engine).query(QUESTION)
    answer = engine.ask(QUESTION)
    assert response.response == answer.text and "3.43 million" in str(response)
    assert [n.node.metadata["number"] for n in response.source_nodes] == [c.number for c in answer.citations]
    first = response.source_nodes[0].node
    assert first.metadata["quote"] in first.get_content() and response.metadata == {
        "found": True,
        "backend": "offline",
        "warnings": [],
        "read_as": "",
    }
    assert [n.node.node_id for n in EngineQueryEngine(engine).retrieve(QueryBundle(QUESTION))] == [
        n.node.node_id for n in EngineRetriever(engine).retrieve(QUESTION)
    ]


def test_a_question_the_articles_do_not_answer_has_no_source_nodes(engine: Engine) -> None:
    response = asyncio.run(EngineQueryEngine(engine).aquery("Who won the 1998 football World Cup?"))
    assert response.metadata is not None and response.metadata["found"] is False
    assert response.source_nodes == []


def test_llama_index_query_engines_can_use_the_retriever(engine: Engine) -> None:
    # MockLLM echoes its prompt, so the answer shows the context llama-index built from our nodes.
    composed = RetrieverQueryEngine.from_args(EngineRetriever(engine, top_k=4), llm=MockLLM())
    response = composed.query(QUESTION)
    assert len(response.source_nodes) == 4
    assert all(n.node.get_content() in str(response) for n in response.source_nodes)
    assert "Query: " + QUESTION in str(response)
