"""A real HTTP server speaking OpenAI's /v1/chat/completions (JSON and SSE), replaying replies queued per test."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Reply:
    """One scripted reply: an assistant message, or an error status, after an optional delay."""

    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering (longer than the client's timeout = a timeout)
    headers: dict[str, str] = field(default_factory=dict)
    chunk_chars: int = 8  # a streamed reply sends the content in pieces of this many characters
    interval: float = 0.0  # streamed: seconds between pieces (a model that drips its answer)
    cut_after: int | None = None  # streamed: drop the connection after this many chunks
    cut_cleanly: bool = False  # cut by ending the body early (no finish_reason) rather than mid-chunk
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Request:
    """A request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        """The chat messages sent."""
        return list(self.body.get("messages", []))

    @property
    def prompt(self) -> str:
        """All message contents joined, to look for text in."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


Script: TypeAlias = "Reply | str | Callable[[Request], Reply | str]"
"""A queued reply: fixed, plain text, or written from the request (like a model reading its prompt)."""


class ChatServer:
    """OpenAI-compatible chat server on 127.0.0.1 and a free port; `queue(...)` the replies a test expects."""

    def __init__(self) -> None:
        self.replies: queue.Queue[Script] = queue.Queue()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The URL to give the client (settings.openai_base_url)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> ChatServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def queue(self, *replies: Script) -> None:
        """Queue replies, answered in order."""
        for reply in replies:
            self.replies.put(reply)

    def reset(self) -> None:
        """Forget queued replies and received requests."""
        with self._lock:
            self.requests.clear()
        while not self.replies.empty():
            self.replies.get_nowait()

    def take(self, request: Request) -> Reply:
        """Record a request and the next queued reply for it (a 500 when the test queued none)."""
        with self._lock:
            self.requests.append(request)
        try:
            script = self.replies.get_nowait()
        except queue.Empty:
            return Reply(status=500, content="the test queued no reply for this request")
        reply = script(request) if callable(script) else script
        return Reply(reply) if isinstance(reply, str) else reply


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection the test cut on purpose, or a client that gave up waiting


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            reply = server.take(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            time.sleep(reply.delay)
            try:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "unknown route", "type": "invalid_request_error"}})
                elif reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.content, "type": "server_error"}}, reply)
                elif body.get("stream"):
                    self._stream(reply, str(body.get("model")))
                else:
                    self._json(200, _completion(reply, str(body.get("model"))), reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing to answer

        def _json(self, status: int, payload: dict[str, Any], reply: Reply | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (reply.headers if reply else {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Reply, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            if reply.cut_cleanly:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pieces = [reply.content[i : i + reply.chunk_chars] for i in range(0, len(reply.content), reply.chunk_chars)]
            events = [_chunk(model, {"role": "assistant", "content": ""}, None)]
            events += [_chunk(model, {"content": piece}, None) for piece in pieces]
            events += [_chunk(model, {}, reply.finish_reason), "[DONE]"]
            for sent, event in enumerate(events):
                if reply.cut_after is not None and sent >= reply.cut_after + 1:
                    if reply.cut_cleanly:
                        self.wfile.flush()
                    else:
                        # Drop the socket mid-body: the client sees an incomplete chunked response.
                        self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if sent > 1 and reply.interval:
                    time.sleep(reply.interval)
                self._send(f"data: {event}\n\n".encode(), chunked=not reply.cut_cleanly)
            if not reply.cut_cleanly:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _send(self, data: bytes, chunked: bool) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
            self.wfile.flush()

    return Handler


def _completion(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict[str, str], finish_reason: str | None) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
    )
