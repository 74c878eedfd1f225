"""Bad input and faults: hostile article files, repeated and edited ingests, bad questions through every door,
questions during an upload, and a failing language model behind the chat page."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client

from rag.answer import NOT_FOUND
from rag.cli import main
from rag.engine import Engine
from rag.llm import CUT_OFF, TIMED_OUT, UNREACHABLE
from rag.settings import Settings
from tests.conftest import CountingE5
from tests.openai_server import ChatServer, Reply, Request
from tests.test_llm import source_number
from tests.test_ui_api import ask, serve

HARBOUR = """---
title: Harbour museum
---

The harbour museum welcomed 8,200 visitors in May. It opened in 1999 on the old pier.

Its ferry gallery shows 14 restored boats.
"""
LIBRARY = "图书馆六月借出图书3300册。馆内共有12间阅览室。"
REPEATED = (
    "The night market has 96 stalls. It opens at six in the evening and closes at midnight, every day of the year."
)


def write(folder: Path, name: str, data: bytes | str) -> Path:
    """Write a file (text as UTF-8), making its folder."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def whole(engine: Engine) -> dict[str, int]:
    """Stored sentences per article, after checking each article in the manifest is complete."""
    counts: dict[str, int] = {}
    for record in engine.index.records:
        counts[record.document] = counts.get(record.document, 0) + 1
    for document, entry in engine.store.manifest().items():
        assert counts.get(document) == entry.sentences, f"{document} is incomplete"
    assert set(counts) == set(engine.store.manifest())
    return counts


# Hostile files at ingest (reading them is tested in test_corpus.py; here the store is checked after the ingest)


def test_hostile_files_are_reported_and_skipped_and_every_good_one_is_ingested(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    folder = fresh_settings.seeds_dir
    write(folder, "harbour.md", HARBOUR)
    write(folder, "library.txt", LIBRARY.encode("utf-16"))  # UTF-16 with its BOM is good text
    write(folder, "market.txt", "\n\n".join([REPEATED] * 3))  # one paragraph three times
    write(folder, "more/park.txt", "The medical device park has landed 44 quality projects.")
    write(folder, "more/harbour.txt", "Another harbour: 5 piers.")  # the same id as harbour.md
    write(folder, "gbk.txt", LIBRARY.encode("gbk"))
    write(folder, "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(folder, "empty.txt", b"")
    write(folder, "blank.md", " \n\t\n\u3000\n")
    write(folder, "huge.txt", "Word. " * 2000)
    write(folder, "title.md", '---\ntitle: "Bad \\ud800 title"\n---\nThe zoo has 31 pandas.')
    write(tmp_path, "secret.txt", "The password is 1234.")
    (folder / "secret.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(folder / "pipe.txt")  # reading a named pipe would wait for a writer forever
    (folder / "folder.txt").mkdir()
    write(folder, os.fsdecode(b"caf\xe9.txt"), "The cafe sold 500 cups.")  # a name that is not UTF-8
    write(folder, ".hidden.txt", "Hidden files are not articles. 7 of them.")

    engine = Engine(fresh_settings.model_copy(update={"max_file_bytes": 10_000}), embedder=CountingE5())
    started = time.monotonic()
    report = engine.ingest()
    assert time.monotonic() - started < 120
    assert sorted(report.added) == ["harbour", "library", "market", "park", "title"]
    reasons = {skipped.path.name: skipped.reason for skipped in report.skipped}
    bad = ["gbk.txt", "binary.txt", "empty.txt", "blank.md", "huge.txt", "secret.txt", "pipe.txt", "harbour.txt"]
    assert sorted(reasons) == sorted([*bad, os.fsdecode(b"caf\xe9.txt")])
    assert "not UTF-8" in reasons["gbk.txt"] and "binary" in reasons["binary.txt"]
    assert "no text" in reasons["empty.txt"] and "no text" in reasons["blank.md"]
    assert "over the 10,000-byte limit" in reasons["huge.txt"] and "outside" in reasons["secret.txt"]
    assert "not a regular file" in reasons["pipe.txt"] and "not valid UTF-8" in reasons[os.fsdecode(b"caf\xe9.txt")]
    assert "already has the id 'harbour'" in reasons["harbour.txt"]

    counts = whole(engine)
    assert counts["market"] == 6  # the repeated paragraph is stored each time, under its own id
    assert engine.store.manifest()["title"].title == "Bad  title"
    assert all("1234" not in record.text and "Hidden" not in record.text for record in engine.index.records)
    assert "8,200" in engine.ask("How many visitors did the harbour museum welcome in May?").text
    assert "3300" in engine.ask("图书馆六月借出多少册图书？").text
    again = engine.ingest()
    assert again.sentences_embedded == 0 and len(again.unchanged) == 5 and len(again.skipped) == len(reasons)


def test_the_command_lists_skipped_files_and_still_ingests(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = fresh_settings.seeds_dir
    write(folder, "park.txt", "The medical device park has landed 44 quality projects.")
    write(folder, "gbk.txt", LIBRARY.encode("gbk"))
    os.mkfifo(folder / "pipe.txt")
    monkeypatch.setenv("RAG_DATA_DIR", str(fresh_settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(folder))
    assert main(["ingest"]) == 0
    out, err = capsys.readouterr()
    assert "1 added" in out and "2 skipped" in out
    assert f"skipped {folder / 'gbk.txt'}: it is not UTF-8 text" in err
    assert f"skipped {folder / 'pipe.txt'}: it is not a regular file" in err


# Repeated, edited and removed articles (test_engine.py covers unchanged re-ingest, an edit and a deletion)


def test_a_renamed_file_replaces_its_article(fresh_settings: Settings) -> None:
    folder = fresh_settings.seeds_dir
    write(folder, "harbour.md", HARBOUR)
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    (folder / "harbour.md").rename(folder / "museum.md")
    report = engine.ingest()
    assert report.added == ["museum"] and report.removed == ["harbour"]
    assert set(whole(engine)) == {"museum"}
    assert engine.ask("How many visitors did the harbour museum welcome in May?").citations[0].document == "museum"


def test_an_upload_twice_is_unchanged_and_an_edited_upload_replaces_the_old_text(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    write(fresh_settings.seeds_dir, "park.txt", "The medical device park has landed 44 quality projects.")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    upload = tmp_path / "upload"
    write(upload, "harbour.md", HARBOUR)
    assert engine.add(upload).added == ["harbour"]
    second = engine.add(upload)
    assert second.unchanged == ["harbour"] and second.sentences_embedded == 0
    write(upload, "harbour.md", HARBOUR.replace("8,200", "9,900"))
    assert engine.add(upload).updated == ["harbour"]
    assert set(whole(engine)) == {"park", "harbour"}  # an upload never removes the other articles
    answer = engine.ask("How many visitors did the harbour museum welcome in May?")
    assert "9,900" in answer.text and all("8,200" not in c.text for c in answer.citations)
    assert not any("8,200" in record.text for record in engine.index.records)


# Where articles came from: an ingest removes only what the user asks for (issue #19.2), uploads are kept (#20.7)

MUSEUM = "The city museum counted 5,100 visitors in June. Its new wing opened in 2021."


def test_an_ingest_removes_no_article_of_another_folder_or_upload(fresh_settings: Settings, tmp_path: Path) -> None:
    write(fresh_settings.seeds_dir, "park.txt", "The medical device park has landed 44 quality projects.")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    upload = write(tmp_path / "downloads", "harbour.md", HARBOUR)
    assert engine.upload(upload, "harbour.md").added == ["harbour"]
    mine = tmp_path / "my-articles"
    write(mine, "museum.txt", MUSEUM)

    report = engine.ingest(mine)  # was: "1 added, 2 removed" (the seed article and the upload)
    assert report.added == ["museum"] and report.removed == [] and report.missing == []
    again = engine.ingest()  # the seeds folder again: was "1 removed" (the upload and the other folder's article)
    assert again.removed == [] and again.unchanged == ["park"]
    assert set(whole(engine)) == {"park", "harbour", "museum"}
    origins = {id_: entry.origin for id_, entry in engine.store.manifest().items()}
    assert origins == {"park": str(fresh_settings.seeds_dir.resolve()), "harbour": "upload", "museum": str(mine.resolve())}
    assert (fresh_settings.data_dir / "uploads" / "harbour.md").read_text(encoding="utf-8") == HARBOUR


def test_articles_gone_from_their_folder_are_listed_and_removed_only_with_prune(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    write(fresh_settings.seeds_dir, "park.txt", "The medical device park has landed 44 quality projects.")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    mine = tmp_path / "my-articles"
    write(mine, "museum.txt", MUSEUM)
    write(mine, "harbour.md", HARBOUR)
    engine.ingest(mine)
    (mine / "museum.txt").unlink()

    kept = engine.ingest(mine, prune=False)
    assert kept.missing == ["museum"] and kept.removed == []
    assert set(whole(engine)) == {"park", "museum", "harbour"}
    told: list[list[str]] = []

    def announce(doomed: list[str]) -> None:
        told.append(doomed)
        assert "museum" in engine.store.manifest()  # told before it is done

    pruned = engine.ingest(mine, prune=True, announce=announce)
    assert told == [["museum"]] and pruned.removed == ["museum"] and pruned.missing == []
    assert set(whole(engine)) == {"park", "harbour"}  # the seeds folder's article is not the other folder's to prune


def test_an_upload_replacing_another_article_is_refused_without_the_right(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    from rag.engine import UploadRefused
    from ui.app import add_article

    write(fresh_settings.seeds_dir, "harbour.md", HARBOUR)
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    forged = write(tmp_path / "downloads", "harbour.md", HARBOUR.replace("8,200", "1"))
    with pytest.raises(UploadRefused, match="needs a login"):
        engine.upload(forged, "harbour.md")
    status = add_article(engine, str(forged), 100_000)  # the page without a login
    assert "already in the library" in status and "RAG_UI_AUTH" in status
    assert not (fresh_settings.data_dir / "uploads" / "harbour.md").exists()
    assert "8,200" in engine.ask("How many visitors did the harbour museum welcome in May?").text
    same = write(tmp_path / "again", "harbour.md", HARBOUR)
    assert "unchanged" in add_article(engine, str(same), 100_000)  # the same text is no replacement
    assert "Replaced" in add_article(engine, str(forged), 100_000, replace=True)  # the page with a login
    assert " 1 " in f" {engine.ask('How many visitors did the harbour museum welcome in May?').text} "


def test_uploads_survive_a_rebuild(fresh_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(fresh_settings.seeds_dir, "park.txt", "The medical device park has landed 44 quality projects.")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    engine.upload(write(tmp_path / "downloads", "harbour.md", HARBOUR), "harbour.md")
    mine = write(tmp_path / "mine", "museum.txt", MUSEUM).parent
    engine.ingest(mine)
    engine.close()
    # The upload's temporary file is gone, as Gradio's copies are: the kept file is what brings it back.
    (tmp_path / "downloads" / "harbour.md").unlink()
    monkeypatch.setenv("RAG_DATA_DIR", str(fresh_settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(fresh_settings.seeds_dir))
    assert main(["ingest", "--rebuild"]) == 0  # no PATH
    rebuilt = Engine(fresh_settings, embedder=CountingE5())
    assert set(whole(rebuilt)) == {"park", "harbour", "museum"}
    assert rebuilt.remove("harbour")  # removed from the page: its kept file goes too, so no rebuild brings it back
    assert not (fresh_settings.data_dir / "uploads" / "harbour.md").exists()


def test_with_no_articles_at_all_questions_are_answered_not_found(fresh_settings: Settings) -> None:
    engine = Engine(fresh_settings, embedder=CountingE5())  # an empty store and an empty articles folder
    answer = engine.ask("How many quality projects has the park landed?")
    assert not answer.found and answer.text == NOT_FOUND["en"] and answer.citations == []
    assert len(engine.index) == 0 and engine.store.sentences.count() == 0


# Bad questions, through the engine, the command and the chat page's API

BAD = {
    "empty": ("", "Please type a question."),
    "spaces": (" \t\n ", "Please type a question."),
    "controls": ("\x00\x01\x1b\x7f", "Please type a question."),
    "invisible": ("\u200b\u200d\u202e\ufeff", "Please type a question."),
    "lone-surrogates": ("\udfff\ud800", "Please type a question."),  # low before high: not a pair
    "punctuation": ("?!.,;:…", "Please ask a question in words."),
    "chinese-punctuation": ("？！。，", "Please ask a question in words."),
    "emoji": ("🙂🚀🇨🇳", "Please ask a question in words."),
    "100-kb": ("x" * 100_000, "That question is 100,000 characters long; please keep it under 2,000."),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_question_gets_a_message_at_once(engine: Engine, case: str) -> None:
    question, message = BAD[case]
    started = time.monotonic()
    answer = engine.ask(question)
    assert time.monotonic() - started < 1.0  # refused before any embedding or search
    assert (answer.text, answer.found, answer.citations) == (message, False, [])


@pytest.mark.parametrize(
    "question",
    [
        "How many\x00 talents does the city have?",
        "\ud800How many talents does the city have?",
        "How many talents\u200b does the city have?\x1b",
        "How many talents does the city have? " + "🙂" * 500,
    ],
    ids=["nul", "surrogate", "invisible", "emoji-tail"],
)
def test_stray_characters_around_a_good_question_are_ignored(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.found and "3.43 million" in answer.text and answer.question == question


def test_the_longest_question_allowed_is_answered_in_bounded_time(engine: Engine) -> None:
    for question in ("How many talents does Suzhou have? " * 55, "苏州高新区人才" * 285):
        assert len(question) <= engine.settings.max_question_chars
        started = time.monotonic()
        answer = engine.ask(question)
        assert time.monotonic() - started < 20
        assert answer.text


@pytest.fixture
def cli_env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command pointed at the session's store."""
    monkeypatch.setenv("RAG_DATA_DIR", str(engine.settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(engine.settings.seeds_dir))


@pytest.mark.parametrize("case", ["empty", "controls", "lone-surrogates", "emoji", "100-kb"])
def test_the_command_prints_the_message_for_a_bad_question(
    cli_env: None, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    question, message = BAD[case]
    assert main(["ask", question]) == 2  # a usage error: the message says why
    assert capsys.readouterr().out == message + "\n"
    assert main(["ask", question, "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert (data["text"], data["found"], data["citations"]) == (message, False, [])


def test_the_command_echoes_undecodable_question_bytes_without_failing(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # What Python makes of `rag ask $'\xff\xfe talents?'` in a UTF-8 locale: lone surrogates.
    question = os.fsdecode(b"\xff\xfe How many talents does the city have?")
    assert main(["ask", question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is True and "3.43 million" in data["text"]


@pytest.fixture(scope="module")
def page(engine: Engine, settings: Settings) -> Iterator[str]:
    """A chat page over the seed articles, in this process."""
    app = serve(engine, settings)
    yield str(app.local_url)
    app.close()


def call_ask(url: str, question: str, timeout: float = 60) -> dict[str, Any]:
    """The `ask` endpoint called over plain HTTP (JSON can carry what gradio_client cannot encode)."""
    body = json.dumps({"data": [question]}).encode()
    request = urllib.request.Request(url + "gradio_api/call/ask", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        event = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event}", timeout=timeout) as response:
        stream = response.read().decode()
    assert "event: complete" in stream, stream
    data = json.loads(stream.split("event: complete\ndata: ", 1)[1].splitlines()[0])
    return dict(json.loads(data[0]))


@pytest.mark.parametrize("case", BAD)
def test_the_api_answers_a_bad_question_with_the_message(page: str, case: str) -> None:
    question, message = BAD[case]
    started = time.monotonic()
    answer = call_ask(page, question)
    assert time.monotonic() - started < 10
    assert (answer["text"], answer["found"], answer["citations"]) == (message, False, [])


def test_the_api_survives_a_surrogate_around_a_good_question(page: str) -> None:
    answer = call_ask(page, "\udc80How many talents does the city have?")
    assert answer["found"] is True and "3.43 million" in answer["text"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [(None, "nothing"), (42, "a number"), (["How many talents?"], "a list"), ({"q": "talents"}, "an object")],
    ids=["null", "number", "list", "object"],
)
def test_the_api_answers_a_question_that_is_not_text_with_a_message_and_no_traceback(
    page: str, question: Any, kind: str, capfd: pytest.CaptureFixture[str]
) -> None:
    answer = call_ask(page, question)
    assert (answer["text"], answer["found"], answer["citations"]) == (
        f"The question must be text, not {kind}.",
        False,
        [],
    )
    assert "Traceback" not in "".join(capfd.readouterr())


def raw_post(url: str, head: dict[str, str], chunks: Iterator[bytes], timeout: float = 10) -> tuple[int, float]:
    """POST to the ask endpoint over a bare socket, writing `chunks` until the server answers; (status, seconds)."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((where.hostname, where.port), timeout=timeout) as sock:
        lines = [f"POST {where.path}gradio_api/call/ask HTTP/1.1", f"Host: {where.netloc}"]
        lines += [f"{name}: {value}" for name, value in head.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock.setblocking(False)
        reply = b""
        for chunk in chunks:
            with contextlib.suppress(BlockingIOError):
                reply += sock.recv(4096)
            if reply or time.monotonic() - started > timeout:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.05)
        sock.settimeout(timeout)
        while b"\r\n" not in reply:
            reply += sock.recv(4096)
    return int(reply.split()[1]), time.monotonic() - started


def test_the_api_refuses_a_body_declared_over_the_limit_before_it_is_sent(page: str, settings: Settings) -> None:
    # 102 MB announced, a few KB sent: the answer comes at once, without waiting for (or keeping) the rest.
    head = {"Content-Type": "application/json", "Content-Length": "102000000"}
    status, seconds = raw_post(page, head, iter([b'{"data": ["' + b"x" * 4096] + [b"x" * 4096] * 3))
    assert status == 413 and seconds < 5


def test_the_api_refuses_a_chunked_body_once_it_passes_the_limit(page: str, settings: Settings) -> None:
    limit = settings.max_request_bytes
    piece = b"x" * 8192
    chunks = iter([f"{len(piece):x}\r\n".encode() + piece + b"\r\n"] * (limit // len(piece) * 50))
    status, seconds = raw_post(page, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, chunks)
    assert status == 413 and seconds < 10
    assert call_ask(page, "How many talents does the city have?")["found"] is True  # the page carries on


def test_a_question_of_the_longest_allowed_length_fits_the_body_limit(page: str, settings: Settings) -> None:
    question = "苏" * (settings.max_question_chars - 1) + "？"  # as JSON, six bytes a character
    assert len(json.dumps({"data": [question]})) < settings.max_request_bytes
    assert call_ask(page, question)["found"] is False


# Questions while an upload is being ingested


def test_questions_during_an_ingest_are_answered_from_the_articles_already_there(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    write(fresh_settings.seeds_dir, "park.txt", "The medical device park has landed 44 quality projects.")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    upload = write(tmp_path / "upload", "harbour.md", HARBOUR).parent
    writing, release = threading.Event(), threading.Event()

    def held(done: int, total: int, name: str) -> None:
        writing.set()
        assert release.wait(60)

    worker = threading.Thread(target=engine.add, args=(upload, held))
    worker.start()
    try:
        assert writing.wait(60)
        started = time.monotonic()
        answer = engine.ask("How many quality projects has the medical device park landed?")
        assert time.monotonic() - started < 10  # not held up by the ingest
        assert answer.found and "44" in answer.text
        assert not engine.ask("How many visitors did the harbour museum welcome in May?").found
    finally:
        release.set()
        worker.join(60)
    assert "8,200" in engine.ask("How many visitors did the harbour museum welcome in May?").text


# A failing language model behind the chat page

KEY = "sk-test-reliability-0123456789abcdef"
TALENTS = "How many talents does Suzhou have?"


class Model:
    """A scripted model that translates the question and answers according to the current `mode`."""

    def __init__(self) -> None:
        self.mode = "ok"

    def __call__(self, request: Request) -> Reply | str:
        if not request.body.get("stream"):
            return "苏州有多少人才？"  # the translation for the Chinese article's search
        if self.mode == "ok":
            return f"At present, Suzhou has about 3.43 million talents [{source_number(request, '3.43 million')}]."
        if self.mode == "slow":
            return Reply("too late", delay=3.0)
        if self.mode == "drip":  # 400 characters, two every 0.2 s: 40 s of answer, no read ever timing out
            return Reply("At present, Suzhou has about 3.43 million talents [1]. " * 8, chunk_chars=2, interval=0.2)
        if self.mode == "cut":
            return Reply("At present, Suzhou has about 3.43 million talents [1].", cut_after=3)
        return Reply(status=int(self.mode), content="failing", headers={"retry-after-ms": "10"})


@pytest.fixture(scope="module")
def model() -> Iterator[tuple[ChatServer, Model]]:
    """The protocol server, replying through a `Model` to any number of requests."""
    server = ChatServer().start()
    scripted = Model()
    server.queue(*[scripted] * 500)
    yield server, scripted
    server.stop()


@pytest.fixture(scope="module")
def llm_page(engine: Engine, model: tuple[ChatServer, Model]) -> Iterator[str]:
    """A chat page whose answers come from the scripted model (1 retry, 0.5 s timeout)."""
    server, _ = model
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OPENAI_API_KEY", KEY)
        settings = engine.settings.model_copy(
            update={"llm": "openai", "openai_base_url": server.base_url, "llm_timeout": 0.5, "llm_retries": 1}
        )
        llm_engine = Engine(settings, embedder=engine.embedder, client=engine.store.client)
        app: gr.Blocks = serve(llm_engine, settings)
        # One question first: the first call of a process opens the HTTP client and its connections, which on a busy
        # machine can take the whole 0.5 s these tests give the model, and the first fault would then read as slow.
        ask(Client(str(app.local_url), verbose=False), TALENTS)
        yield str(app.local_url)
        app.close()


@pytest.mark.server
@pytest.mark.parametrize("fault", ["429", "500", "503", "slow", "cut"])
def test_a_failing_model_gives_the_offline_answer_with_a_notice_and_the_next_question_succeeds(
    llm_page: str, model: tuple[ChatServer, Model], engine: Engine, fault: str
) -> None:
    _, scripted = model
    client = Client(llm_page, verbose=False)
    scripted.mode = fault
    started = time.monotonic()
    failed = ask(client, TALENTS)
    assert time.monotonic() - started < 15
    assert failed["backend"] == "offline" and failed["found"] is True
    assert failed["text"] == engine.ask(TALENTS).text
    late = TIMED_OUT.format(seconds=0.5)
    assert failed["warnings"] == [CUT_OFF if fault == "cut" else late if fault == "slow" else UNREACHABLE]
    scripted.mode = "ok"
    answer = ask(client, TALENTS)
    assert answer["backend"] == "openai" and answer["warnings"] == []
    assert answer["text"] == "At present, Suzhou has about 3.43 million talents [1]."


@pytest.mark.server
def test_a_dripping_model_holds_no_question_past_the_deadline(
    llm_page: str, model: tuple[ChatServer, Model], engine: Engine
) -> None:
    _, scripted = model
    scripted.mode = "drip"
    offline = engine.ask(TALENTS).text
    started = time.monotonic()
    jobs = [Client(llm_page, verbose=False).submit(TALENTS, api_name="/ask") for _ in range(8)]
    results = [json.loads(job.result(timeout=120)) for job in jobs]
    took = time.monotonic() - started
    assert all(r["text"] == offline and r["warnings"] == [TIMED_OUT.format(seconds=0.5)] for r in results)
    # Four at a time (the page's concurrency), each cut off 0.5 s into the model's answer: two rounds, not the
    # 40 s a dripped answer takes to finish.
    assert took < 20, took
    scripted.mode = "ok"


@pytest.mark.server
def test_slow_model_answers_do_not_hold_up_the_queue(llm_page: str, model: tuple[ChatServer, Model]) -> None:
    _, scripted = model
    scripted.mode = "slow"
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    jobs = [Client(llm_page, verbose=False).submit(TALENTS, api_name="/ask") for _ in range(8)]
    results = [json.loads(job.result(timeout=60)) for job in jobs]
    assert all(r["backend"] == "offline" and r["warnings"] == [TIMED_OUT.format(seconds=0.5)] for r in results)
    assert time.monotonic() - started < 45  # eight questions, four at a time, each given up after 0.5 s
    scripted.mode = "ok"
    assert ask(Client(llm_page, verbose=False), TALENTS)["backend"] == "openai"
