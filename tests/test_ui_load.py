"""The page's handlers under load and beside other readers (#27.9): many files in one upload, two windows removing the
same article, questions while an upload ingests, and a second instance sharing a Chroma server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from rag.answer import Answer
from rag.engine import Engine
from rag.settings import Settings
from tests.conftest import CountingE5
from ui.app import add_article, article_choices, remove_article, render_article, render_library

MAX_UPLOAD = 2_000_000
HARBOUR = "The harbour museum welcomed 8,200 visitors in May, the most since it opened."
HARBOUR_QUESTION = "How many visitors did the harbour museum welcome in May?"


def notes(folder: Path, count: int) -> list[str]:
    """`count` small article files of one sentence each (note-000.txt …), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"note-{i:03d}.txt"
        path.write_text(f"The ferry carried {1000 + i} passengers on route {i}.\n", encoding="utf-8")
        paths.append(str(path))
    return paths


def in_threads(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in `count` threads released together; what each returned, or the exception it raised."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(slot: int) -> None:
        start.wait()
        try:
            results[slot] = work()
        except Exception as error:  # noqa: BLE001 (the test looks at what each thread got)
            results[slot] = error

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_300_files_in_one_upload_are_all_ingested_at_once(fresh_settings: Settings, tmp_path: Path) -> None:
    engine = Engine(fresh_settings, embedder=CountingE5())
    paths = notes(tmp_path / "picked", 300)
    started = time.perf_counter()
    status = add_article(engine, paths, MAX_UPLOAD)
    seconds = time.perf_counter() - started
    assert "Added · 已添加" in status and "and 280 more · 等300篇" in status and "rag-error" not in status
    assert len(engine.store.manifest()) == 300 and len(engine.index.manifest) == 300
    assert engine.embedder.texts == 300  # type: ignore[attr-defined]  # one sentence each, embedded once
    assert len(list(engine.library.uploads_dir.iterdir())) == 300  # kept for a rebuild; nothing staged is left
    answer = engine.ask("How many passengers did the ferry carry on route 123?")
    assert answer.found and "1123" in answer.text and answer.citations[0].document == "note-123"
    print(f"300 files in one upload: {seconds:.1f} s")

    # Past the per-upload limit the rest are named as not added; the ones read are unchanged and cost nothing.
    status = add_article(engine, [*paths, *notes(tmp_path / "more", 2)[1:]], MAX_UPLOAD, max_files=300)
    assert (
        "Already in the library, unchanged" in status
        and "Not added: the last 1 of the 301 files, at most 300" in status
    )
    assert len(engine.store.manifest()) == 300 and engine.embedder.texts == 300  # type: ignore[attr-defined]


def test_files_of_one_upload_with_one_name_or_of_another_kind_are_each_reported(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    engine = Engine(fresh_settings, embedder=CountingE5())
    first, second = tmp_path / "a" / "harbour.md", tmp_path / "b" / "harbour.md"
    for path, text in ((first, HARBOUR), (second, "Another text under the same name.")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    status = add_article(engine, [str(first), str(second), str(photo)], MAX_UPLOAD)
    assert "Added · 已添加: <b>harbour</b>" in status
    assert "another file of this upload is also named harbour.md" in status
    assert "photo.jpg: only .txt .md .html .pdf .docx articles can be added" in status
    assert "8,200" in engine.ask(HARBOUR_QUESTION).text


def test_two_windows_removing_the_same_article_at_once(fresh_settings: Settings, tmp_path: Path) -> None:
    engine = Engine(fresh_settings, embedder=CountingE5())
    add_article(engine, notes(tmp_path / "picked", 3), MAX_UPLOAD)
    said = in_threads(2, lambda: remove_article(engine, "note-001"))
    assert sorted("Removed · 已删除" in s for s in said) == [False, True], said
    (other,) = [s for s in said if "Removed" not in s]
    assert "is not in the library: it was removed already · 文章已被删除" in other
    # The store, the index and the kept files agree: the article is gone from each, the others are whole.
    assert sorted(engine.store.manifest()) == sorted(engine.index.manifest) == ["note-000", "note-002"]
    assert engine.store.count() == 2 and len(engine.index) == 2
    assert sorted(p.name for p in engine.library.uploads_dir.iterdir()) == ["note-000.txt", "note-002.txt"]
    assert not engine.ask("How many passengers did the ferry carry on route 1?").found


def test_questions_while_an_upload_ingests_are_answered(fresh_settings: Settings, tmp_path: Path) -> None:
    engine = Engine(fresh_settings, embedder=CountingE5())
    harbour = tmp_path / "harbour.md"
    harbour.write_text(HARBOUR, encoding="utf-8")
    add_article(engine, str(harbour), MAX_UPLOAD)
    assert engine.ask(HARBOUR_QUESTION).found  # loaded as the page loads it before it opens (`Engine.warm_up`)
    paths = notes(tmp_path / "picked", 150)
    upload = threading.Thread(target=lambda: statuses.append(add_article(engine, paths, MAX_UPLOAD)))
    statuses: list[str] = []
    answers: list[Answer] = []
    views: list[str] = []
    upload.start()
    while upload.is_alive():  # the page's handlers, as other readers call them meanwhile
        answers.append(engine.ask(HARBOUR_QUESTION))
        views.append(render_library(engine) + render_article(engine, "harbour"))
    upload.join()
    assert len(answers) >= 2, "the upload ended before a question was asked during it"
    assert all(a.found and "8,200" in a.text for a in answers)
    assert all("rag-error" not in view for view in views)
    assert "and 130 more" in statuses[0] and len(engine.store.manifest()) == 151
    assert engine.ask("How many passengers did the ferry carry on route 77?").found


@pytest.mark.server
def test_a_page_in_server_mode_sees_the_articles_another_instance_adds(tmp_path: Path) -> None:
    from tests.test_server_mode import ChromaServer
    from tests.test_ui_api import serve

    server = ChromaServer(tmp_path)
    server.start()
    app = None
    try:

        def instance(name: str) -> Engine:
            settings = Settings(  # type: ignore[call-arg]
                chroma_url=server.url, data_dir=tmp_path / name, seeds_dir=tmp_path / "none", _env_file=None
            )
            return Engine(settings, embedder=CountingE5())

        (tmp_path / "none").mkdir()  # no seeds: the store starts empty
        reader, writer = instance("reader"), instance("writer")
        reader.first_start()
        app = serve(reader, reader.settings)  # the page is open before the other instance adds anything
        client = Client(str(app.local_url), verbose=False)
        assert json.loads(client.predict(HARBOUR_QUESTION, api_name="/ask"))["found"] is False

        harbour = tmp_path / "harbour.md"
        harbour.write_text(HARBOUR, encoding="utf-8")
        assert "Added" in add_article(writer, str(harbour), MAX_UPLOAD)
        time.sleep(reader.library.refresh_seconds)  # the interval within which an instance does not look again
        answer = json.loads(client.predict(HARBOUR_QUESTION, api_name="/ask"))
        assert answer["found"] is True and "8,200" in answer["text"]
        # What a reload of the page shows (its load events): the article in the list and the menu, and openable.
        assert "harbour" in render_library(reader) and ("harbour (harbour)", "harbour") in article_choices(reader)
        assert "8,200 visitors" in render_article(reader, "harbour")

        # Removed on the other instance: gone from this one's answers too, and removing it here says so.
        assert "Removed" in remove_article(writer, "harbour")
        time.sleep(reader.library.refresh_seconds)
        assert json.loads(client.predict(HARBOUR_QUESTION, api_name="/ask"))["found"] is False
        assert "it was removed already" in remove_article(reader, "harbour")
    finally:
        if app is not None:
            app.close()
        server.stop()
