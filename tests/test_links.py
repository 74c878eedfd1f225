"""Links: pages fetched from a real HTTP server on 127.0.0.1, ingested once, and bad links skipped with one line."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.documents import news_page
from rag.cli import main
from rag.corpus import ArticleError, read_folder
from rag.engine import Engine
from rag.links import USER_AGENT, checked_address, fetch, link_id, read_link_list
from rag.settings import Settings
from tests.conftest import CountingE5
from tests.test_readers import NEWS

PAGES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/news/tram.html": (200, {"Content-Type": "text/html; charset=utf-8"}, news_page("Tram line opens", NEWS).encode()),
    "/old-tram": (301, {"Location": "/news/tram.html"}, b""),
    "/report.pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4"),
    "/missing": (404, {"Content-Type": "text/html"}, b"<p>Not here.</p>"),
    "/to-private": (302, {"Location": "http://10.1.2.3/admin"}, b""),
    "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
    "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
    "/loop": (302, {"Location": "/loop"}, b""),
    "/menu.html": (200, {"Content-Type": "text/html"}, b"<nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"),
}


class Handler(BaseHTTPRequestHandler):
    """Serves PAGES; /slow answers after a second; records each request's user agent."""

    agents: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        Handler.agents.append(self.headers.get("User-Agent", ""))
        if self.path.startswith("/drip"):
            self.drip()
            return
        if self.path == "/slow":
            time.sleep(1.0)
        status, headers, body = PAGES.get(self.path, (200, {"Content-Type": "text/html"}, b"<p>Late.</p>"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up waiting (the timeout test)
            self.wfile.write(body)

    def drip(self) -> None:
        """One byte every 0.1 s for up to 60 s: of the headers (/drip-headers), or of a body declared 100,000
        bytes long (/drip)."""
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
        if self.path == "/drip":
            self.wfile.write(head)
            head = b""
        with contextlib.suppress(OSError):
            for byte in (head + b"<p>" + b"x" * 600)[:600]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A web server on 127.0.0.1, on a free port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def link_settings(tmp_path: Path) -> Settings:
    """Settings that allow links to this machine (the test server), and only those."""
    return Settings(data_dir=tmp_path / "data", seeds_dir=tmp_path, allow_loopback_urls=True, fetch_timeout=0.5, _env_file=None)  # type: ignore[call-arg]


def test_a_page_is_fetched_with_a_plain_user_agent_and_follows_redirects(site: str, link_settings: Settings) -> None:
    page = fetch(f"{site}/old-tram", link_settings)
    assert page.url == f"{site}/news/tram.html" and b"58,000 passengers" in page.body
    assert Handler.agents[-1] == USER_AGENT


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/report.pdf", "it is not a web page (Content-Type: application/pdf)"),
        ("/missing", "it answered HTTP 404 Not Found"),
        ("/to-private", "it leads to a private address (10.1.2.3 is 10.1.2.3); not fetched"),
        ("/to-metadata", "it leads to a private address (169.254.169.254 is 169.254.169.254); not fetched"),
        ("/to-file", "only http and https links are fetched, not file:"),
        ("/loop", "it redirects more than 5 times"),
        ("/slow", "it did not answer within 0.5 s"),
    ],
)
def test_bad_links_say_why(site: str, link_settings: Settings, path: str, reason: str) -> None:
    with pytest.raises(ArticleError) as caught:
        fetch(site + path, link_settings)
    assert str(caught.value) == reason


def test_this_machine_is_refused_unless_allowed(site: str, link_settings: Settings) -> None:
    strict = link_settings.model_copy(update={"allow_loopback_urls": False})
    with pytest.raises(ArticleError, match=r"private address \(127\.0\.0\.1 is 127\.0\.0\.1\)"):
        fetch(f"{site}/news/tram.html", strict)
    with pytest.raises(ArticleError, match="private address"):
        checked_address("localhost", 80)
    for address in ("::1", "::ffff:127.0.0.1", "127.0.0.2"):
        with pytest.raises(ArticleError, match="private address"):
            checked_address(address, 80)
    # Loosened for this machine only: the local network stays out of reach.
    for address in ("10.0.0.1", "192.168.1.1", "172.16.0.1", "fd00::1", "100.64.0.1", "0.0.0.0", "224.0.0.1"):
        with pytest.raises(ArticleError, match="private address"):
            checked_address(address, 80, allow_loopback=True)
    # Teredo (2001::/32), whatever client address it carries, is not a global address at all.
    with pytest.raises(ArticleError, match="private address"):
        checked_address("2001:0:4136:e378:8000:63bf:f5ff:fffe", 80)
    assert checked_address("127.0.0.1", 80, allow_loopback=True) == "127.0.0.1"


def test_oversized_page_and_unreachable_host(site: str, link_settings: Settings) -> None:
    small = link_settings.model_copy(update={"max_document_bytes": 100})
    with pytest.raises(ArticleError, match="over the 100-byte limit"):
        fetch(f"{site}/news/tram.html", small)
    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as closed:
        port = closed.server_address[1]
    with pytest.raises(ArticleError, match="could not be reached"):
        fetch(f"http://127.0.0.1:{port}/", link_settings)


def test_link_ids_are_stable_and_tell_pages_apart() -> None:
    assert link_id("https://www.example.org/news/2024/tram.html") == "example-org-news-2024-tram"
    assert link_id("https://example.org/story?id=1") != link_id("https://example.org/story?id=2")
    assert link_id("http://127.0.0.1:8000/a") != link_id("http://127.0.0.1:9000/a")
    assert len(link_id("https://example.org/" + "long-path/" * 30)) <= 89


def test_ingested_links_are_cited_with_their_address_and_cost_nothing_again(site: str, link_settings: Settings) -> None:
    engine = Engine(link_settings, embedder=CountingE5())
    report = engine.ingest_links([f"{site}/news/tram.html", f"{site}/report.pdf", f"{site}/menu.html"])
    assert report.added == ["127-0-0-1-" + site.rsplit(":", 1)[1] + "-news-tram"]
    assert {s.url: s.reason for s in report.skipped} == {
        f"{site}/report.pdf": "it is not a web page (Content-Type: application/pdf)",
        f"{site}/menu.html": "it is not an article: no paragraph of running text (a menu, a form or a list of links?)",
    }
    # The page is kept with its address, so reading the folder again (as a rebuild does) keeps the link.
    (kept,), _ = read_folder(link_settings.data_dir / "links")
    assert kept.id == report.added[0] and kept.url == f"{site}/news/tram.html"
    answer = engine.ask("How many passengers did the tram line carry on its first day?")
    assert answer.found and answer.citations[0].source == f"{site}/news/tram.html"
    embedded = engine.embedder.texts  # type: ignore[attr-defined]
    again = engine.ingest_links([f"{site}/news/tram.html"])
    assert again.unchanged == report.added and engine.embedder.texts == embedded  # type: ignore[attr-defined]
    again = engine.ingest_links([f"{site}/old-tram"])  # the same page through a redirect
    assert again.unchanged == report.added and engine.embedder.texts == embedded  # type: ignore[attr-defined]
    engine.close()


def test_cli_ingests_a_list_of_links(
    site: str, link_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = link_settings.seeds_dir / "links.txt"
    listing.write_text(f"# today's reading\n{site}/news/tram.html\n\n{site}/missing\n", encoding="utf-8")
    assert read_link_list(listing) == [f"{site}/news/tram.html", f"{site}/missing"]
    monkeypatch.setenv("RAG_DATA_DIR", str(link_settings.data_dir))
    monkeypatch.setenv("RAG_ALLOW_LOOPBACK_URLS", "true")
    assert main(["ingest", str(listing)]) == 0
    captured = capsys.readouterr()
    assert "1 added" in captured.out
    assert f"skipped {site}/missing: it answered HTTP 404 Not Found" in captured.err
    assert main(["ingest", f"{site}/news/tram.html", "somewhere"]) == 2


def test_cli_exits_1_when_every_link_is_refused(
    site: str, link_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(link_settings.data_dir))
    monkeypatch.setenv("RAG_ALLOW_LOOPBACK_URLS", "true")
    assert main(["ingest", f"{site}/missing"]) == 1
    assert "nothing could be ingested" in capsys.readouterr().err


def test_a_link_refused_by_the_store_lock_is_not_kept(
    site: str, link_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another process (as a running chat page does) holds the data directory's lock.
    link_settings.data_dir.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(link_settings.data_dir / "store.lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("RAG_DATA_DIR", str(link_settings.data_dir))
        monkeypatch.setenv("RAG_ALLOW_LOOPBACK_URLS", "true")
        assert main(["ingest", f"{site}/news/tram.html"]) == 2  # a store error
        assert f"in use by another process (pid {holder.pid})" in capsys.readouterr().err
        # Nothing of the link is kept, so a later `rag ingest --rebuild` cannot bring it in.
        assert not (link_settings.data_dir / "links").exists()
    finally:
        holder.kill()
        holder.wait()


HOLD_LOCK = """
import fcntl, os, sys, time
handle = open(sys.argv[1], "a+")
fcntl.flock(handle, fcntl.LOCK_EX)
handle.write(f"{os.getpid()}\\n"); handle.flush()
print("locked", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_dripping_server_is_cut_off_at_the_fetch_deadline(site: str, link_settings: Settings, path: str) -> None:
    # Each byte comes well within any socket timeout; the deadline bounds the whole fetch, headers included.
    settings = link_settings.model_copy(update={"fetch_timeout": 1.5})
    started = time.monotonic()
    with pytest.raises(ArticleError, match=r"^it did not answer within 1.5 s$"):
        fetch(f"{site}{path}", settings)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
        ("::a9fe:a9fe", "169.254.169.254"),  # IPv4-compatible: the cloud metadata address
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64
        ("64:ff9b:1::a00:1", "10.0.0.1"),  # local-use NAT64
        ("2002:a9fe:a9fe::1", "169.254.169.254"),  # 6to4
    ],
)
def test_ipv6_forms_carrying_a_private_ipv4_address_are_refused(address: str, inner: str) -> None:
    with pytest.raises(ArticleError, match=rf"carries {re.escape(inner)}\)"):
        checked_address(address, 80, allow_loopback=True)
    # Teredo (2001::/32), whatever client address it carries, is not a global address at all.
    with pytest.raises(ArticleError, match="private address"):
        checked_address("2001:0:4136:e378:8000:63bf:f5ff:fffe", 80)


def test_ipv6_forms_carrying_a_public_ipv4_address_pass() -> None:
    assert checked_address("64:ff9b::808:808", 80) == "64:ff9b::808:808"  # NAT64 of 8.8.8.8
    assert checked_address("2606:4700:4700::1111", 80) == "2606:4700:4700::1111"  # no IPv4 inside
