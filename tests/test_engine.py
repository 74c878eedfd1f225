"""The ask() contract end to end, on real Chroma, the real e5 embedder and the real seed articles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.engine import Engine
from rag.settings import PROJECT_ROOT, Settings
from tests.conftest import SEEDS, CountingE5


def test_every_citation_was_retrieved_and_quotes_verbatim(engine: Engine) -> None:
    index = engine.index
    for question in ("When was Nawei Technology listed?", "医疗器械产业园落地了多少个优质项目？"):
        answer = engine.ask(question)
        for citation in answer.citations:
            assert citation.quote in citation.text
            paragraphs = {(r.document, r.paragraph) for r in index.records}
            assert (citation.document, citation.paragraph) in paragraphs


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "？？？", "x" * 100_000, "\x00\x01", "\ud800 lone"])
def test_bad_questions_get_a_message_and_no_embedding(engine: Engine, question: str) -> None:
    embedder = engine.embedder
    assert isinstance(embedder, CountingE5)
    before = embedder.queries
    answer = engine.ask(question)
    assert not answer.found
    assert answer.text
    if not question.replace("\ud800", "").strip(" \n\t\x00\x01？"):
        assert embedder.queries == before


@pytest.mark.parametrize(
    "question",
    [
        "How many talents does Suzhou have?",
        "How many talents does the city have?",
        "苏州高新区已累计集聚各类人才多少人？",
    ],
)
def test_a_question_padded_with_combining_accents_gets_the_plain_answer(engine: Engine, question: str) -> None:
    plain = engine.ask(question)
    padded = engine.ask(question + "\u0301" * 1900)  # under RAG_MAX_QUESTION_CHARS: it was answered, wrongly
    assert plain.found and padded.text == plain.text and padded.citations == plain.citations
    accented = engine.ask(question.replace("a", "a" + "\u0301" * 40))
    assert accented.text == plain.text


def test_a_question_of_combining_marks_alone_is_refused_plainly(engine: Engine) -> None:
    answer = engine.ask("\u0301" * 1900)
    assert not answer.found and answer.text == "Please type a question."


def test_reingest_of_unchanged_articles_embeds_nothing(engine: Engine) -> None:
    embedder = engine.embedder
    assert isinstance(embedder, CountingE5)
    before = embedder.texts
    report = engine.ingest()
    assert embedder.texts == before
    assert report.sentences_embedded == 0
    assert sorted(report.unchanged) == ["suzhou-high-tech-zone-zh", "suzhou-organizational-work-en"]


def test_edit_and_delete_replace_what_is_stored(fresh_settings: Settings) -> None:
    folder = fresh_settings.seeds_dir
    shutil.copy(SEEDS / "suzhou-organizational-work-en.txt", folder / "a.txt")
    engine = Engine(fresh_settings, embedder=CountingE5())
    first = engine.ingest()
    assert first.added == ["a"] and first.sentences_embedded > 0
    count = engine.store.sentences.count()

    path = folder / "a.txt"
    path.write_text(path.read_text().replace("3.43 million", "9.99 million"))
    second = engine.ingest()
    assert second.updated == ["a"]
    assert engine.store.sentences.count() == count
    texts = [record.text for record in engine.index.records]
    assert not any("3.43 million" in text for text in texts)
    assert any("9.99 million" in text for text in texts)

    shutil.copy(SEEDS / "suzhou-high-tech-zone-zh.txt", folder / "b.txt")
    path.unlink()
    third = engine.ingest()
    assert third.removed == ["a"] and third.added == ["b"]
    assert {record.document for record in engine.index.records} == {"b"}
    assert all(c.get(where={"document": "a"})["ids"] == [] for c in engine.store.sentences.all(refresh=True))

    (folder / "b.txt").unlink()
    fourth = engine.ingest()  # an empty folder looks like a wrong path: nothing is deleted
    assert fourth.removed == []
    assert {record.document for record in engine.index.records} == {"b"}


def test_a_first_start_ingests_the_seeds_into_an_empty_store(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / "suzhou-high-tech-zone-zh.txt", fresh_settings.seeds_dir / "zh.txt")
    engine = Engine(fresh_settings)
    assert len(engine.index) == 0  # opening the store ingests nothing
    engine.first_start()
    answer = engine.ask("医疗器械产业园落地了多少个优质项目？")
    assert answer.found and "44" in answer.text


def test_missing_seeds_folder_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", seeds_dir=tmp_path / "missing", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(FileNotFoundError, match="missing"):
        Engine(settings).ingest()


def test_close_lets_another_process_open_the_store(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / "suzhou-organizational-work-en.txt", fresh_settings.seeds_dir / "a.txt")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    code = (
        "from rag.settings import Settings\nfrom rag.store import open_client\nopen_client(Settings())\nprint('opened')"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RAG_DATA_DIR": str(fresh_settings.data_dir)}

    def open_elsewhere() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)

    blocked = open_elsewhere()
    assert blocked.returncode != 0 and "in use by another process" in blocked.stderr
    engine.close()
    assert open_elsewhere().stdout.strip() == "opened"
    assert "3.43 million" in engine.ask("How many talents does the city have?").text  # opened again on use


def test_remove_deletes_one_article_and_its_paragraphs_are_listed_until_then(fresh_settings: Settings) -> None:
    folder = fresh_settings.seeds_dir
    shutil.copy(SEEDS / "suzhou-organizational-work-en.txt", folder / "a.txt")
    shutil.copy(SEEDS / "suzhou-high-tech-zone-zh.txt", folder / "b.txt")
    engine = Engine(fresh_settings, embedder=CountingE5())
    try:
        engine.ingest()
        paragraphs = engine.paragraphs("a")
        assert [p.number for p in paragraphs] == list(range(1, len(paragraphs) + 1))
        cited = engine.ask("How many talents does the city have?").citations[0]
        assert paragraphs[cited.paragraph - 1].text == cited.text  # numbered as citations number them
        assert engine.remove("a") and not engine.remove("a")
        assert set(engine.store.manifest()) == {"b"} and engine.paragraphs("a") == []
        assert {record.document for record in engine.index.records} == {"b"}
        assert all(c.get(where={"document": "a"})["ids"] == [] for c in engine.store.sentences.all(refresh=True))
        assert all(c.document == "b" for c in engine.ask("How many talents does Suzhou have?").citations)
    finally:
        engine.close()
