"""Links: web pages fetched with a timeout, a size limit and a plain user agent, never from a private address.

Every hop of a redirect is checked: the host's addresses are looked up and the connection is made to the address
that was checked, so a name that resolves differently a moment later (DNS rebinding) cannot lead the fetch into
the local network. Addresses on this machine are allowed only with `Settings.allow_loopback_urls`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from rag.corpus import ArticleError, Skipped, digest
from rag.settings import Settings

USER_AGENT = "rag-news-reader/0.1 (fetches the article pages its user adds; Python)"
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
CHUNK = 65_536


@dataclass(frozen=True)
class Page:
    """A fetched web page: the address it was finally read from, and its bytes."""

    url: str
    body: bytes


def is_link(text: str) -> bool:
    """Does `text` look like a web link (http or https)?"""
    return bool(re.match(r"^https?://\S+$", text.strip(), re.IGNORECASE))


def read_link_list(path: Path) -> list[str] | None:
    """The links a text file lists, one a line (blank lines and # comments ignored); None when it lists none,
    or has a line that is not a link (it is an article, not a list)."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    except (OSError, UnicodeDecodeError):
        return None
    links = [line for line in lines if line and not line.startswith("#")]
    return links if links and all(is_link(line) for line in links) else None


def link_id(url: str) -> str:
    """A stable article id for a link: its host and path, lower-case, dashes between words (a hash added for a
    query or a long path, so different pages get different ids)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.") + (f"-{parts.port}" if parts.port else "")
    slug = re.sub(r"[^\w]+", "-", unicodedata.normalize("NFKC", host + parts.path).lower()).strip("-")
    slug = re.sub(r"-(html?|php|aspx?)$", "", slug) or "link"
    if parts.query or len(slug) > 80:
        slug = slug[:80].rstrip("-") + "-" + digest(url.strip())[:8]
    return slug


def fetch(url: str, settings: Settings) -> Page:
    """The web page at `url`, following at most MAX_REDIRECTS redirects; raises ArticleError saying why not."""
    deadline = time.monotonic() + settings.fetch_timeout
    late = ArticleError(f"it did not answer within {settings.fetch_timeout:g} s")
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise ArticleError(f"only http and https links are fetched, not {parts.scheme or 'this'}:")
        if parts.username or parts.password:
            raise ArticleError("links with a user name or password are not fetched")
        try:
            host = (parts.hostname or "").encode("idna").decode("ascii")
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except (UnicodeError, ValueError) as error:
            raise ArticleError(f"it is not a valid link ({error})") from error
        if not host:
            raise ArticleError("it is not a valid link (no host)")
        address = checked_address(host, port, settings.allow_loopback_urls)
        connection = _connection(parts.scheme.lower(), host, port, address, max(0.1, deadline - time.monotonic()))
        # A server that drips (a byte a second, headers or body) never trips a socket timeout, which each byte
        # resets: at the deadline the connection is cut, whatever it is waiting for.
        cutter = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (connection,))
        cutter.daemon = True
        cutter.start()
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(
                "GET",
                target,
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                    "Accept-Encoding": "gzip, identity",
                },
            )
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise ArticleError(f"it answered HTTP {response.status} without saying where to")
                url = urljoin(url, location.strip())
                continue
            if response.status != 200:
                raise ArticleError(f"it answered HTTP {response.status} {response.reason}".rstrip())
            kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if kind not in HTML_TYPES:
                raise ArticleError(f"it is not a web page (Content-Type: {kind or 'none'})")
            body = _read(response, settings.max_document_bytes, deadline)
            return Page(url, body)
        except ArticleError as error:
            if time.monotonic() >= deadline:
                raise late from error
            raise
        except TimeoutError as error:
            raise late from error
        except ssl.SSLError as error:
            if time.monotonic() >= deadline:
                raise late from error
            raise ArticleError(f"its secure connection failed ({error.reason or error.__class__.__name__})") from error
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() >= deadline:  # the cut at the deadline ends a read any way it can
                raise late from error
            raise ArticleError(f"it could not be reached ({error.__class__.__name__})") from error
        finally:
            cutter.cancel()
            connection.close()
    raise ArticleError(f"it redirects more than {MAX_REDIRECTS} times")


def checked_address(host: str, port: int, allow_loopback: bool = False) -> str:
    """The address to connect to for `host`, once every address it resolves to is known to be public (or, with
    `allow_loopback`, on this machine); raises ArticleError otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ArticleError(f"its host {host} was not found") from error
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback and allow_loopback:
            continue
        if not ip.is_global or ip.is_multicast:
            raise ArticleError(f"it leads to a private address ({host} is {ip}); not fetched")
        inner = embedded_ipv4(ip)
        if inner is not None and (not inner.is_global or inner.is_multicast):
            raise ArticleError(f"it leads to a private address ({host} is {ip}, which carries {inner}); not fetched")
    if not addresses:
        raise ArticleError(f"its host {host} was not found")
    return addresses[0]


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries, which a network translating IPv6 to IPv4 would reach: IPv4-compatible
    (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::) or Teredo's client; None for any other.
    (Python 3.11 counts `::127.0.0.1` and `64:ff9b::7f00:1` as global.)"""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 or any(ip in network for network in NAT64):
        return low
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to the address that was checked, whatever the host name resolves to by then."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """An HTTPS connection to the address that was checked, with the certificate checked against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = sock  # so that the cut at the deadline also ends a handshake dripped a byte at a time
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _connection(scheme: str, host: str, port: int, address: str, timeout: float) -> http.client.HTTPConnection:
    return (_PinnedTLS if scheme == "https" else _Pinned)(host, port, address, timeout)


def _read(response: http.client.HTTPResponse, limit: int, deadline: float) -> bytes:
    """The response body, unpacked when gzip-encoded, refused past `limit` bytes or the deadline."""
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise ArticleError(f"it is {int(length):,} bytes, over the {limit:,}-byte limit")
    gzipped = (response.getheader("Content-Encoding") or "").strip().lower() == "gzip"
    unpack = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    body = bytearray()
    while chunk := response.read(CHUNK):
        if time.monotonic() > deadline:
            raise ArticleError("it did not arrive in time")
        body += unpack.decompress(chunk, limit + 1 - len(body)) if unpack else chunk
        if len(body) > limit:
            raise ArticleError(f"it is over the {limit:,}-byte limit")
    if time.monotonic() > deadline:  # the end of a body cut at the deadline is not the end of the page
        raise ArticleError("it did not arrive in time")
    return bytes(body)


def _cut(connection: http.client.HTTPConnection) -> None:
    """End whatever the connection is waiting for: its reads return at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def save_pages(urls: Sequence[str], folder: Path, settings: Settings) -> tuple[list[Path], list[Skipped]]:
    """Fetch each link's page and keep it in `folder` as ID.html, with its address beside it (see `address_file`),
    when it holds an article. A link that cannot be fetched or read is skipped with the reason, and the others are
    kept all the same."""
    from rag.readers import parse_html

    saved: list[Path] = []
    skipped: list[Skipped] = []
    for url in (u.strip() for u in urls if u.strip()):
        path = folder / f"{link_id(url)}.html"
        try:
            page = fetch(url, settings)
            # Named by where the page is, so a link that redirects to a page already ingested finds it unchanged.
            path = folder / f"{link_id(page.url)}.html"
            if path in saved:
                raise ArticleError(f"it is the same page as another link ({page.url})")
            parse_html(page.body, path.stem, path=path, url=page.url)  # an article, or why not, before keeping it
            folder.mkdir(parents=True, exist_ok=True)
            address_file(path).write_text(f"[InternetShortcut]\nURL={page.url}\n", encoding="utf-8")
            path.write_bytes(page.body)
        except (ArticleError, OSError) as error:
            skipped.append(Skipped(path, str(error), url=url))
            continue
        saved.append(path)
    return saved, skipped


def address_file(page: Path) -> Path:
    """Where the address a kept page was fetched from is written: a hidden internet shortcut beside it (hidden, so
    an ingest of the folder does not take it for an article)."""
    return page.with_name(f".{page.stem}.url")


def saved_address(page: Path) -> str:
    """The address a kept page was fetched from ("" for a page saved by other means)."""
    try:
        text = address_file(page).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    found = re.search(r"^URL=(https?://\S+)\s*$", text, re.MULTILINE | re.IGNORECASE)
    return found.group(1) if found else ""
