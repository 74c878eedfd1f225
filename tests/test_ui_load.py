"""The page's handlers under load and beside other readers (#27.9): many files in one upload, two windows
removing the same article."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.engine import Engine
from rag.settings import Settings
from tests.conftest import CountingE5
from ui.app import add_article, remove_article

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
