"""The chat page's API: the named `ask` endpoint returns the answer as JSON, and a login guards it when configured."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

from rag.answer import NOT_FOUND
from rag.engine import Engine
from rag.settings import Settings
from ui.app import build_app, launch_options

# Every field of `Citation`: the one JSON shape (`Answer.to_dict()`) of the API, `rag ask --json` and the evaluation.
CITATION_KEYS = {
    *("number", "document", "title", "paragraph", "quote", "text", "score", "lang", "kind"),
    *("source", "page", "page_paragraph", "published"),
}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(engine: Engine, settings: Settings) -> gr.Blocks:
    """The chat page for `engine`, started in this process on a free port."""
    settings = settings.model_copy(update={"port": free_port()})
    app = build_app(engine, settings)
    app.launch(prevent_thread_lock=True, **launch_options(settings))
    return app


@pytest.fixture(scope="module")
def url(engine: Engine, settings: Settings) -> Iterator[str]:
    """The address of a chat page over the seed articles."""
    app = serve(engine, settings)
    yield str(app.local_url)
    app.close()


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    """A gradio_client connected to the chat page."""
    return Client(url, verbose=False)


def ask(client: Client, question: str) -> dict[str, Any]:
    """The `ask` endpoint's answer, which it gives as JSON text."""
    result = client.predict(question, api_name="/ask")
    assert isinstance(result, str)
    answer = json.loads(result)
    assert isinstance(answer, dict)
    return answer


def test_ask_returns_the_figure_with_a_verbatim_cited_quote(client: Client) -> None:
    answer = ask(client, "How many talents does the city have?")
    assert answer["found"] is True
    assert "3.43 million" in answer["text"]
    assert "[1]" in answer["text"]
    assert answer["backend"] == "offline" and answer["kind"] == "figure"
    assert answer["warnings"] == []
    citation = answer["citations"][0]
    assert set(citation) == CITATION_KEYS
    assert citation["number"] == 1
    assert citation["document"] == "suzhou-organizational-work-en"
    assert isinstance(citation["paragraph"], int) and citation["paragraph"] >= 1
    assert "3.43 million" in citation["quote"]
    assert citation["quote"] in citation["text"]
    assert citation["source"] == "suzhou-organizational-work-en.txt" and citation["page"] is None


def test_ask_answers_chinese_from_the_chinese_article(client: Client) -> None:
    answer = ask(client, "苏州高新区已累计集聚各类人才多少人？")
    assert answer["found"] is True
    assert "26万" in answer["text"]
    assert answer["citations"][0]["document"] == "suzhou-high-tech-zone-zh"
    assert "26万" in answer["citations"][0]["quote"]


def test_ask_says_when_the_articles_do_not_say(client: Client) -> None:
    answer = ask(client, "What is the capital of France?")
    assert answer["found"] is False and answer["kind"] == "none"
    assert answer["text"] == NOT_FOUND["en"]
    assert answer["citations"] == [] and answer["nearest"] == []  # no article mentions France


def test_ask_says_a_summary_is_one(client: Client) -> None:
    answer = ask(client, "What is the English article about?")
    assert answer["found"] is True and answer["kind"] == "summary" and len(answer["citations"]) >= 3
    assert {c["document"] for c in answer["citations"]} == {"suzhou-organizational-work-en"}


def test_ask_returns_the_closest_passages_of_a_refusal(client: Client) -> None:
    answer = ask(client, "How large is Suzhou's pool of skilled people?")
    assert answer["found"] is False and answer["citations"] == []
    assert [p["number"] for p in answer["nearest"]] == [1, 2, 3]
    assert all(p["quote"] in p["text"] for p in answer["nearest"])


def test_only_the_ask_endpoint_is_public(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask", "/feedback"}
    assert [p["parameter_name"] for p in endpoints["/ask"]["parameters"]] == ["question"]


def test_login_guards_the_page_and_the_api(engine: Engine, settings: Settings) -> None:
    app = serve(engine, settings.model_copy(update={"ui_auth": "reader:s3cret word"}))
    try:
        with pytest.raises(AuthenticationError):
            Client(str(app.local_url), verbose=False)
        client = Client(str(app.local_url), auth=("reader", "s3cret word"), verbose=False)
        assert ask(client, "When was Nawei Technology listed?")["found"] is True
    finally:
        app.close()


def test_a_login_without_a_password_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="user:password"):
        launch_options(settings.model_copy(update={"ui_auth": "reader"}))
    assert launch_options(settings.model_copy(update={"ui_auth": "reader:a:b"}))["auth"] == ("reader", "a:b")
    assert launch_options(settings)["auth"] is None
