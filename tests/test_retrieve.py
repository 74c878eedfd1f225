"""The in-memory index (rag/retrieve.py): sentences, paragraphs, topics and keyword rankings, saved, loaded and
updated article by article, over the real seed articles."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rag.engine import Engine
from rag.retrieve import Index
from rag.settings import Settings
from rag.store import Store
from rag.text import TOKENIZER, tokenize
from tests.conftest import SEEDS, CountingE5

EN = "suzhou-organizational-work-en"
ZH = "suzhou-high-tech-zone-zh"
QUERIES = [
    {"talent": 1.0, "suzhou": 1.0},
    {"人才": 1.0, "高新区": 1.0, "talent": 0.5},
    {"party": 1.0, "build": 1.0, "党建": 0.9},
    {"nowhere-to-be-found": 1.0},
]


def test_saved_index_loads_the_same(engine: Engine, tmp_path: Path) -> None:
    index = engine.index
    path = tmp_path / "index.npz"
    index.save(path)
    loaded = Index.load(path)
    assert loaded is not None
    assert list(loaded.records) == list(index.records)
    assert dict(loaded.paragraphs) == dict(index.paragraphs)
    assert dict(loaded.topics) == dict(index.topics)
    assert loaded.vocabularies == index.vocabularies
    assert loaded.languages == index.languages == ["en", "zh"]
    assert loaded.manifest == index.manifest and set(loaded.manifest) == {EN, ZH}
    assert loaded.position == index.position
    for terms in QUERIES:
        assert np.array_equal(loaded.keyword.scores(terms), index.keyword.scores(terms))


def test_unusable_saved_index_is_ignored(engine: Engine, tmp_path: Path) -> None:
    assert Index.load(tmp_path / "missing.npz") is None
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip file")
    assert Index.load(damaged) is None
    path = tmp_path / "index.npz"
    engine.index.save(path)
    path.write_bytes(path.read_bytes()[:1000])
    assert Index.load(path) is None


def test_update_by_article_equals_a_full_build(engine: Engine) -> None:
    store, index = engine.store, engine.index
    manifest = store.manifest()
    without = index.updated([EN], store.read(manifest, []))
    assert {r.document for r in without.records} == {ZH} and without.languages == ["zh"]
    assert set(without.manifest) == {ZH}
    again = without.updated([], store.read(manifest, [EN]))
    assert list(again.records) == list(index.records)
    assert dict(again.paragraphs) == dict(index.paragraphs)
    assert again.vocabularies == index.vocabularies
    assert again.manifest == index.manifest
    for terms in QUERIES:
        assert np.allclose(again.keyword.scores(terms), index.keyword.scores(terms))


def test_records_and_paragraphs_read_like_lists_and_dicts(engine: Engine) -> None:
    index = engine.index
    records = index.records
    assert records[-1] == records[len(records) - 1] and records[:2] == [records[0], records[1]]
    with pytest.raises(IndexError):
        records[len(records)]
    talent = next(r for r in records if "3.43 million" in r.text)
    assert index.position[talent.id] == list(records).index(talent)
    assert talent.text in index.paragraphs[talent.paragraph_id]
    assert len(index.paragraphs) == len({r.paragraph_id for r in records})
    assert "suzhou" in index.topics[EN] and "苏州" in index.topics[ZH]


def test_stored_terms_spare_jieba_and_a_restart_reads_nothing(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / "suzhou-high-tech-zone-zh.txt", fresh_settings.seeds_dir / "zh.txt")
    first = Engine(fresh_settings, embedder=CountingE5())
    first.ingest()
    saved = first.settings.data_dir / f"keyword-{first.store.slug}" / "index.npz"
    assert saved.exists()
    stamp = saved.stat().st_mtime_ns

    got = first.store.read(first.store.manifest())
    assert got.terms and all(terms is not None for terms in got.terms)
    assert got.terms == [tokenize(record.text) for record in got.records]

    saved.unlink()
    rebuilt = Engine(fresh_settings, embedder=CountingE5()).index  # from the store, with its stored terms
    assert list(rebuilt.records) == list(first.index.records)

    stamp = saved.stat().st_mtime_ns
    restarted = Engine(fresh_settings, embedder=CountingE5()).index  # from the saved file: nothing changed
    assert saved.stat().st_mtime_ns == stamp
    assert list(restarted.records) == list(first.index.records)


def test_terms_of_another_tokenizer_are_cut_again(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / "suzhou-organizational-work-en.txt", fresh_settings.seeds_dir / "en.txt")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    some = engine.store.sentences.of("en").get(limit=3, include=["metadatas"])
    engine.store.sentences.of("en").update(
        ids=some["ids"], metadatas=[{**m, "tokenizer": "older", "terms": "stale"} for m in some["metadatas"] or []]
    )
    got = engine.store.read(engine.store.manifest())
    stale = [terms for record, terms in zip(got.records, got.terms, strict=True) if record.id in some["ids"]]
    assert stale == [None, None, None]
    assert TOKENIZER != "older"
    rebuilt = Index(got.records, got.terms)
    assert "stale" not in rebuilt.keyword.document_frequency


def test_topics_are_the_words_of_a_tenth_of_an_articles_sentences(engine: Engine) -> None:
    index = engine.index
    for document in (EN, ZH):
        sentences = [set(tokenize(r.text)) for r in index.records if r.document == document]
        counts = Counter(word for words in sentences for word in words)
        assert index.topics[document] == {w for w, n in counts.items() if n >= 0.1 * len(sentences)}


def test_keyword_candidates_come_from_each_article_language(engine: Engine) -> None:
    # The Chinese question's own words (人才, 全市) fill the Chinese keyword ranking; the English sentences reach the
    # answerer through its translated words (talent, city) in a ranking of their own.
    question, hits = engine.search("苏州全市目前人才总量约有多少？")
    rankings = engine.index.keyword_search(question.terms, 5)
    assert set(rankings) == {"en", "zh"}
    assert all(engine.index.records[i].lang == lang for lang, ranking in rankings.items() for i, _ in ranking)
    english = [hit for hit in hits if hit.record.lang == "en" and hit.keyword > 0]
    assert any("3.43 million" in hit.record.text for hit in english)


def test_ingest_adds_what_it_wrote_without_reading_it_back(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("suzhou-organizational-work-en.txt", "suzhou-high-tech-zone-zh.txt"):
        shutil.copy(SEEDS / name, fresh_settings.seeds_dir / name)
    engine = Engine(fresh_settings, embedder=CountingE5())
    reads: list[object] = []
    real = Store.read
    monkeypatch.setattr(Store, "read", lambda self, *args: reads.append(args) or real(self, *args))
    engine.ingest()
    assert reads == []
    index = engine.index
    monkeypatch.setattr(Store, "read", real)
    stored = Index().updated(set(), engine.store.read(engine.store.manifest()))
    assert list(index.records) == list(stored.records) and index.manifest == stored.manifest
    assert [index.keyword.sentence_terms(i) for i in range(len(index))] == [
        stored.keyword.sentence_terms(i) for i in range(len(stored))
    ]
    saved = Index.load(engine.settings.data_dir / f"keyword-{engine.store.slug}" / "index.npz")
    assert saved is not None and list(saved.records) == list(stored.records)
