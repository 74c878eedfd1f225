"""Server mode: instances on several machines share one `chroma run`, and each keeps its keyword index current."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from rag.engine import Engine
from rag.settings import PROJECT_ROOT, Settings
from rag.store import StoreError, StoreUnreachable, open_client
from tests.conftest import SEEDS, CountingE5
from tests.test_ui_api import ask, serve

pytestmark = pytest.mark.server

QUESTIONS = [
    "When was Nawei Technology listed?",
    "苏州高新区已累计集聚各类人才多少人？",
    "医疗器械产业园落地了多少个优质项目？",
    "How many hospitals does Suzhou have?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """A real Chroma server (`chroma run`) on 127.0.0.1 with its data in `path`; it can be stopped and started again
    on the same port and data."""

    def __init__(self, path: Path) -> None:
        self.chroma = Path(sys.executable).with_name("chroma")
        if not self.chroma.exists():
            pytest.skip("the chroma command is not installed beside this Python")
        self.path = path
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        with (self.path / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.chroma), "run", "--path", str(self.path / "data"), "--host", "127.0.0.1"]
                + ["--port", self.url.rsplit(":", 1)[1]],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"chroma run did not start: {(self.path / 'server.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server (the one this test started, by its process)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on 127.0.0.1, with its data in a temp dir, stopped after the tests."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


def _settings(tmp_path: Path, url: str, name: str, seeds: Path) -> Settings:
    """Settings of one instance: the shared server, and a data dir (keyword index cache) of its own."""
    return Settings(chroma_url=url, data_dir=tmp_path / name, seeds_dir=seeds, _env_file=None)  # type: ignore[call-arg]


def _ask_in_another_process(url: str, data_dir: Path, question: str, cwd: Path) -> dict[str, object]:
    env = {**os.environ, "RAG_CHROMA_URL": url, "RAG_DATA_DIR": str(data_dir), "RAG_SEEDS_DIR": str(cwd / "none")}
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")])  # this checkout's rag
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "--json", question],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_instances_sharing_a_server_see_each_others_ingests(chroma_url: str, engine: Engine, tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for path in SEEDS.iterdir():
        shutil.copy(path, articles / path.name)
    writer = Engine(_settings(tmp_path, chroma_url, "writer", articles), embedder=CountingE5())
    report = writer.ingest()
    assert sorted(report.added) == ["suzhou-high-tech-zone-zh", "suzhou-organizational-work-en"]

    # A long-running instance elsewhere: its own keyword index, built from the server's collection.
    reader = Engine(_settings(tmp_path, chroma_url, "reader", articles), embedder=CountingE5())
    reader.library.refresh_seconds = 0.0
    for question in QUESTIONS:
        # Same store contents, same answers as the embedded store of the session engine.
        assert reader.ask(question).citations == engine.ask(question).citations
    assert reader.embedder.texts == 0  # type: ignore[attr-defined]

    answer = _ask_in_another_process(chroma_url, tmp_path / "process", QUESTIONS[0], tmp_path)
    assert answer["found"] is True and "2021" in str(answer["text"])

    edited = articles / "suzhou-organizational-work-en.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("In June 2021", "In June 2019"), encoding="utf-8")
    assert writer.ingest().updated == ["suzhou-organizational-work-en"]

    seen = reader.ask(QUESTIONS[0])
    assert "2019" in seen.text and "2021" not in seen.text
    assert reader.ask(QUESTIONS[1]).citations == engine.ask(QUESTIONS[1]).citations
    # The same data dir as before: its saved keyword index is out of date and is brought up to date.
    again = _ask_in_another_process(chroma_url, tmp_path / "process", QUESTIONS[0], tmp_path)
    assert "2019" in str(again["text"]) and "2021" not in str(again["text"])


def test_an_instance_checks_at_most_every_refresh_interval(chroma_url: str, tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(SEEDS / "suzhou-high-tech-zone-zh.txt", articles / "zh.txt")
    writer = Engine(_settings(tmp_path, chroma_url, "writer", articles), embedder=CountingE5())
    writer.rebuild()  # whatever else the server held is forgotten (an ingest removes only its own folder's articles)
    writer.ingest()
    reader = Engine(_settings(tmp_path, chroma_url, "reader", articles), embedder=CountingE5())
    reader.library.refresh_seconds = 3600.0
    before = reader.index
    assert set(before.manifest) == {"zh"}
    shutil.copy(SEEDS / "suzhou-organizational-work-en.txt", articles / "en.txt")
    (articles / "zh.txt").unlink()
    assert writer.ingest(articles).removed == ["zh"]
    assert reader.index is before and set(before.manifest) == {"zh"}  # not checked again yet
    reader.library.refresh_seconds = 0.0
    assert set(reader.index.manifest) == {"en"} and {r.document for r in reader.index.records} == {"en"}


def test_token_is_sent_as_a_bearer_header(tmp_path: Path) -> None:
    seen: list[str | None] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
            seen.append(self.headers.get("Authorization"))
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        settings = Settings(chroma_url=url, chroma_token="s3cret", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
        with pytest.raises(Exception):  # noqa: B017 - whatever chromadb raises for a 401
            open_client(settings).heartbeat()
    finally:
        server.shutdown()
    assert seen and seen[0] == "Bearer s3cret"


def test_a_malformed_server_url_names_the_cure(tmp_path: Path) -> None:
    settings = Settings(chroma_url="localhost:8000", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(StoreError, match="http://host:8000"):
        open_client(settings)


def test_a_stopped_server_is_named_plainly_and_the_page_answers_again_once_it_is_back(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    server = ChromaServer(tmp_path)
    server.start()
    app = None
    try:
        settings = _settings(tmp_path, server.url, "page", SEEDS)
        engine = Engine(settings, embedder=CountingE5())
        engine.ingest()
        app = serve(engine, settings)
        client = Client(str(app.local_url), verbose=False)
        assert ask(client, QUESTIONS[1])["found"] is True
        server.stop()
        capfd.readouterr()
        unreachable = f"The Chroma server at {server.url} (RAG_CHROMA_URL) cannot be reached"
        time.sleep(engine.library.refresh_seconds)  # past the interval in which the index is not checked
        with pytest.raises(AppError, match=re.escape(unreachable)):
            ask(client, QUESTIONS[1])
        with pytest.raises(StoreUnreachable, match=re.escape(unreachable)):
            engine.ask(QUESTIONS[0])
        assert "Traceback" not in capfd.readouterr().err
        server.start()
        assert ask(client, QUESTIONS[1])["found"] is True
    finally:
        if app is not None:
            app.close()
        server.stop()
