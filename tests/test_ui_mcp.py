"""The chat page's `ask` served as an MCP tool: an MCP client over streamable HTTP on 127.0.0.1 gets the answer
with its citations as JSON text; with a login configured the MCP endpoint is not served (Gradio's does not check
logins)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from rag.engine import Engine
from rag.settings import Settings
from tests.test_ui_api import serve


@pytest.fixture(scope="module")
def mcp_url(engine: Engine, settings: Settings) -> Iterator[str]:
    """The MCP endpoint of a chat page over the seed articles."""
    app = serve(engine, settings)
    yield f"{str(app.local_url).rstrip('/')}/gradio_api/mcp/"
    app.close()


async def _call(url: str, tool: str, arguments: dict[str, Any]) -> tuple[list[str], Any]:
    """The names of the server's tools, and the result of one call."""
    async with streamablehttp_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool(tool, arguments)
        return [t.name for t in tools.tools], result


def answer_of(result: Any) -> dict[str, Any]:
    """The answer an MCP tool result carries as its text: the /ask fields as JSON (not a Python dict's notation)."""
    assert not result.isError, result
    data = json.loads(result.content[0].text)
    assert isinstance(data, dict)
    return data


def test_ask_is_an_mcp_tool_that_answers_with_citations(mcp_url: str) -> None:
    names, result = asyncio.run(_call(mcp_url, "ask", {"question": "How many talents does the city have?"}))
    assert sorted(names) == ["ask", "feedback"]
    answer = answer_of(result)
    assert answer["found"] is True and "3.43 million" in answer["text"] and "[1]" in answer["text"]
    assert answer["kind"] == "figure"
    citation = answer["citations"][0]
    assert citation["document"] == "suzhou-organizational-work-en" and citation["quote"] in citation["text"]


def test_the_mcp_tool_says_when_the_articles_do_not_say(mcp_url: str) -> None:
    _, result = asyncio.run(_call(mcp_url, "ask", {"question": "What is the capital of France?"}))
    answer = answer_of(result)
    assert answer["found"] is False and answer["citations"] == [] and answer["kind"] == "none"


def test_the_mcp_tools_answer_in_json_text_that_keeps_chinese_as_written(mcp_url: str) -> None:
    _, result = asyncio.run(_call(mcp_url, "ask", {"question": "苏州高新区已累计集聚各类人才多少人？"}))
    text = result.content[0].text
    assert text.startswith('{"') and "True" not in text and "'found'" not in text  # not repr(dict)
    answer = answer_of(result)
    assert answer["found"] is True and "万" in answer["text"] and answer["text"] in text  # not \u escapes
    _, result = asyncio.run(_call(mcp_url, "feedback", {"question": "How many talents?", "verdict": "sideways"}))
    assert json.loads(result.content[0].text) == {"stored": False, "reason": "verdict is 'up' or 'down'"}


def test_no_mcp_endpoint_behind_a_login(engine: Engine, settings: Settings) -> None:
    app = serve(engine, settings.model_copy(update={"ui_auth": "reader:s3cret"}))
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{str(app.local_url).rstrip('/')}/gradio_api/mcp/schema", timeout=30)
        assert refused.value.code in (401, 403, 404)
    finally:
        app.close()
