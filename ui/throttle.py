"""Failed logins slowed down per client: after a few, each further attempt must wait out a growing lock-out."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class _Client:
    failures: int = 0
    until: float = 0.0  # no attempt is checked before this time
    seen: float = 0.0


class LoginThrottle:
    """ASGI middleware around Gradio's `POST /login`: a client's attempts are checked one at a time, and after
    `free` failures each further one waits `base` seconds, doubling with each failure up to `cap`; an attempt
    inside the wait is answered 429 without checking the password. A successful login clears the count.

    The client is the connection's address (a proxy in front makes all its users one client)."""

    def __init__(
        self,
        app: ASGIApp,
        free: int = 5,
        base: float = 1.0,
        cap: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.free = free
        self.base = base
        self.cap = cap
        self.clock = clock
        self._clients: dict[str, _Client] = {}
        self._turns: dict[str, asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.endswith("/login"):
            await self.app(scope, receive, send)
            return
        address = str((scope.get("client") or ("unknown",))[0])
        # One attempt at a time per client: parallel guesses would otherwise all pass before the first failure counts.
        async with self._turns.setdefault(address, asyncio.Lock()):
            now = self.clock()
            client = self._clients.setdefault(address, _Client())
            client.seen = now
            if client.until > now:
                await _refuse(send, client.until - now)
                return
            status = 0

            async def watched(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            await self.app(scope, receive, watched)
            if status == 200:
                self._clients.pop(address, None)
            elif 400 <= status < 500:
                client.failures += 1
                if client.failures >= self.free:
                    wait = min(self.base * 2 ** (client.failures - self.free), self.cap)
                    client.until = self.clock() + wait
            self._forget(now)

    def _forget(self, now: float) -> None:
        """Drop clients not seen for an hour once there are many, so the table stays small."""
        if len(self._clients) > 10_000:
            for address in [a for a, c in self._clients.items() if now - c.seen > 3600 and c.until <= now]:
                del self._clients[address]
                lock = self._turns.get(address)
                if lock is not None and not lock.locked():
                    del self._turns[address]


async def _refuse(send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    body = json.dumps({"detail": f"Too many failed logins; try again in {seconds} s."}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
