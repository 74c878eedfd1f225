"""Failed logins slowed down per client (issue #20.7): the middleware alone, then in front of a real chat page."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rag.engine import Engine
from rag.settings import Settings
from tests.test_ui_api import serve
from ui.throttle import LoginThrottle


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _login(request: Request) -> JSONResponse:
    form = await request.form()
    ok = form.get("password") == "right"
    return JSONResponse({"success": ok}, status_code=200 if ok else 400)


def attempts(throttle: LoginThrottle, client: str, passwords: list[str]) -> list[int]:
    """The status of each login attempt, made in turn from `client`."""

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=throttle, client=(client, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as http:
            return [(await http.post("/login", data={"password": p})).status_code for p in passwords]

    return asyncio.run(run())


def test_after_five_failures_a_client_waits_a_doubling_time_and_others_do_not() -> None:
    clock = Clock()
    throttle = LoginThrottle(Starlette(routes=[Route("/login", _login, methods=["POST"])]), clock=clock)
    assert attempts(throttle, "10.0.0.1", ["wrong"] * 8) == [400] * 5 + [429] * 3
    assert attempts(throttle, "10.0.0.1", ["right"]) == [429]  # the right password waits too: no free guesses
    assert attempts(throttle, "10.0.0.2", ["wrong", "right"]) == [400, 200]  # another client is not slowed
    clock.now += 1.01
    assert attempts(throttle, "10.0.0.1", ["wrong", "wrong"]) == [400, 429]
    clock.now += 1.5
    assert attempts(throttle, "10.0.0.1", ["wrong"]) == [429]  # the sixth failure doubled the wait to 2 s
    clock.now += 0.6
    assert attempts(throttle, "10.0.0.1", ["right", "wrong"]) == [200, 400]  # a success clears the count


def test_parallel_guesses_are_checked_one_at_a_time() -> None:
    throttle = LoginThrottle(Starlette(routes=[Route("/login", _login, methods=["POST"])]), clock=Clock())

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=throttle, client=("10.0.0.3", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as http:
            replies = await asyncio.gather(*(http.post("/login", data={"password": "wrong"}) for _ in range(30)))
            return sorted(reply.status_code for reply in replies)

    assert asyncio.run(run()) == [400] * 5 + [429] * 25


def post_login(url: str, password: str) -> int:
    """The status of one login attempt on the page."""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/login",
        data=f"username=reader&password={password}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        if error.code == 429:
            assert "Too many failed logins" in json.loads(error.read())["detail"]
            assert int(error.headers["Retry-After"]) >= 1
        return int(error.code)


@pytest.mark.server
def test_thirty_fast_guesses_on_the_page_get_five_answers(engine: Engine, settings: Settings) -> None:
    app = serve(engine, settings.model_copy(update={"ui_auth": "reader:s3cret"}))
    url = str(app.local_url)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(lambda _: post_login(url, "wrong"), range(30)))
        assert statuses == [400] * 5 + [429] * 25  # was 30 × 400 in a fraction of a second
        assert post_login(url, "s3cret") == 429
    finally:
        app.close()


def test_no_throttle_without_a_login(settings: Settings) -> None:
    from ui.app import launch_options
    from ui.limits import BodyLimit

    # The body limit is always there; the login throttle only with a login.
    assert [m.cls for m in launch_options(settings)["app_kwargs"]["middleware"]] == [BodyLimit]
    with_login = launch_options(settings.model_copy(update={"ui_auth": "reader:s3cret"}))
    assert [m.cls for m in with_login["app_kwargs"]["middleware"]] == [BodyLimit, LoginThrottle]
