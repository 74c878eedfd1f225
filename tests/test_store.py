"""The Chroma store: sentences per language, the revision token, and stores written by earlier versions."""

from __future__ import annotations

import shutil

from rag.corpus import read_folder
from rag.engine import Engine
from rag.settings import Settings
from rag.store import Store, open_client
from tests.conftest import SEEDS, CountingE5


def test_each_language_has_its_own_collection(engine: Engine) -> None:
    store = engine.store
    names = sorted(collection.name for collection in store.sentences.all())
    assert names == [f"sentences-{store.slug}-en", f"sentences-{store.slug}-zh"]
    assert store.sentences.count() == len(engine.index)
    assert store.sentences.of("fr", create=False) is None
    assert store.search([1.0] * 384, 5, where={"lang": "fr"}) == []


def test_language_search_equals_a_filtered_search(engine: Engine) -> None:
    store = engine.store
    vector = engine.embedder.get_query_embedding("How many talents does Suzhou have?")
    fast = store.search(vector, 10, where={"lang": "en"})
    assert len(fast) == 10 and all(id_.startswith("suzhou-organizational-work-en") for id_, _ in fast)
    everywhere = store.search(vector, 400)
    assert len(everywhere) == len(engine.index)
    in_english = [(id_, score) for id_, score in everywhere if id_.startswith("suzhou-organizational-work-en")]
    assert [id_ for id_, _ in fast] == [id_ for id_, _ in in_english[:10]]
    assert all(abs(a - b) < 1e-6 for (_, a), (_, b) in zip(fast, in_english, strict=False))


def test_revision_changes_with_every_write_and_removal(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / "suzhou-high-tech-zone-zh.txt", fresh_settings.seeds_dir / "zh.txt")
    (article,), _ = read_folder(fresh_settings.seeds_dir)
    store = Store(open_client(fresh_settings), CountingE5(), "test")
    assert store.revision() == ""
    store.write([article])
    written = store.revision()
    assert written and store.revision() == written
    store.remove(article.id)
    assert store.revision() not in ("", written)
    assert store.count() == 0 and store.sentences.count() == 0


def test_a_store_of_one_sentence_collection_is_moved_per_language(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / "suzhou-organizational-work-en.txt", fresh_settings.seeds_dir / "en.txt")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    before = list(engine.index.records)
    client, slug = engine.store.client, engine.store.slug
    # Put the store back the way earlier versions wrote it: every sentence in one collection.
    english = engine.store.sentences.of("en")
    got = english.get(include=["documents", "metadatas", "embeddings"])
    legacy = client.get_or_create_collection(f"sentences-{slug}", metadata={"hnsw:space": "cosine"})
    metadatas = [{**meta, "_node_content": "{}", "ref_doc_id": "None"} for meta in got["metadatas"] or []]
    legacy.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"], metadatas=metadatas)
    client.delete_collection(english.name)

    store = Store(client, engine.embedder, slug, terms=engine.store.terms)
    assert f"sentences-{slug}" not in {collection.name for collection in client.list_collections()}
    moved = store.read(store.manifest())
    assert moved.records == before
    assert all(terms is not None for terms in moved.terms)
    meta = store.sentences.of("en").get(limit=1, include=["metadatas"])["metadatas"][0]
    assert "_node_content" not in meta and "ref_doc_id" not in meta
    assert engine.embedder.texts == len(before)  # type: ignore[attr-defined]  # nothing embedded again


def test_llama_index_reads_the_sentence_collections(engine: Engine) -> None:
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    question = "How many talents does Suzhou have in total?"
    collection = engine.store.sentences.of("en", create=False)
    index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection), embed_model=engine.embedder.as_llama_index())
    found = index.as_retriever(similarity_top_k=5).retrieve(question)
    ours = engine.store.search(engine.embedder.get_query_embedding(question), 5, where={"lang": "en"})
    assert [node.node_id for node in found] == [id_ for id_, _ in ours]
    for node in found:
        record = engine.index.records[engine.index.position[node.node_id]]
        assert node.get_content() == record.text and node.metadata["paragraph"] == record.paragraph
