"""The embedded store's files checked in Python before Chroma's native code reads them.

Chroma's vector index (hnswlib, C++) trusts its files: a neighbour id or a level overwritten by a few bytes makes it
read out of bounds and kill the process with a segmentation fault, which no `except` can turn into a message. So
each segment's files are read here first, with bounds checked by numpy, and the database is checked by SQLite's own
`quick_check`. A full check reads every byte of the store; it runs only when a file changed since the last store
that passed (the `Seal`, a list of file sizes and times kept beside the store), so an unchanged store costs a
`stat` per file.
"""

from __future__ import annotations

import json
import math
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADER = struct.Struct("<iQQQQQQiIQQQdQ")  # hnswlib's persistent header.bin, field by field (100 bytes)
MAX_LEVEL = 64  # far above any real index (levels grow with log(count) / log(M))


@dataclass(frozen=True)
class Header:
    """The fields of a segment's header.bin that say how to read its other files."""

    version: int
    offset_level0: int
    capacity: int
    count: int
    record: int  # bytes per record in data_level0.bin
    label_offset: int
    data_offset: int
    max_level: int
    entry: int
    max_m: int
    max_m0: int
    m: int
    mult: float
    ef_construction: int


def damage(path: Path) -> str | None:
    """What is wrong with the store's files in `path`, in a few words, or None when nothing is found."""
    if not path.is_dir():
        return None
    database = path / "chroma.sqlite3"
    if database.exists():
        problem = _database(database)
        if problem:
            return f"chroma.sqlite3 {problem}"
    for header in sorted(path.glob("*/header.bin")):
        problem = _segment(header.parent)
        if problem:
            return f"{header.parent.name}/{problem}"
    return None


def _database(path: Path) -> str | None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"cannot be read ({error})"
    if rows != [("ok",)]:
        return f"fails SQLite's check ({rows[0][0]})"
    return None


def _segment(folder: Path) -> str | None:
    """Check one vector segment: header fields consistent, every neighbour id and level in range, vectors finite."""
    try:
        raw = (folder / "header.bin").read_bytes()
        if len(raw) < HEADER.size:
            return f"header.bin has {len(raw)} bytes of {HEADER.size}"
        header = Header(*HEADER.unpack_from(raw))
        if header.version != 1:
            return None  # a layout this check does not know: left to Chroma and the sampling check
        problem = _header(header)
        if problem:
            return f"header.bin {problem}"
        data = (folder / "data_level0.bin").read_bytes()
        lengths = (folder / "length.bin").read_bytes()
        links = (folder / "link_lists.bin").read_bytes() if (folder / "link_lists.bin").exists() else b""
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    # A segment holds `count` records, or, while it holds none, room for `capacity` of them.
    needed = header.record * (header.count or header.capacity)
    if len(data) < needed:
        return f"data_level0.bin has {len(data):,} bytes of the {needed:,} its header describes"
    if len(lengths) < 4 * (header.count or header.capacity):
        return f"length.bin has {len(lengths):,} bytes of the {4 * (header.count or header.capacity):,} its header describes"
    if not header.count:
        return None
    return _level0(header, data) or _lengths(header, lengths) or _upper_levels(header, links)


def _header(h: Header) -> str | None:
    dims, rest = divmod(h.label_offset - h.data_offset, 4)
    if not (
        h.offset_level0 == 0
        and h.count <= h.capacity
        and 2 <= h.m <= 1024
        and h.max_m == h.m
        and h.max_m0 == 2 * h.m
        and h.data_offset == 4 * h.max_m0 + 4
        and h.label_offset == h.record - 8
        and dims >= 1
        and rest == 0
        and (0 <= h.max_level <= MAX_LEVEL or h.count == 0 and h.max_level == -1)
        and (h.count == 0 or h.entry < h.count)
        and math.isfinite(h.mult)
        and 0 < h.mult <= 2
        and h.ef_construction >= 1
    ):
        return "holds values no index could have"
    return None


def _level0(h: Header, data: bytes) -> str | None:
    rows = np.frombuffer(data, dtype=np.uint8, count=h.count * h.record).reshape(h.count, h.record)
    counts = rows[:, :2].copy().view("<u2")[:, 0]
    if int(counts.max()) > h.max_m0:
        return (
            f"data_level0.bin: record {int(counts.argmax())} claims {int(counts.max())} neighbours (at most {h.max_m0})"
        )
    neighbours = rows[:, 4 : h.data_offset].copy().view("<u4")
    used = np.arange(h.max_m0)[None, :] < counts[:, None]
    if np.any(neighbours[used] >= h.count):
        return "data_level0.bin: a neighbour id points past the last record"
    vectors = rows[:, h.data_offset : h.label_offset].copy().view("<f4")
    if not np.all(np.isfinite(vectors)):
        return "data_level0.bin: a vector holds a value that is not a number"
    labels = rows[:, h.label_offset :].copy().view("<u8")[:, 0]
    if len(np.unique(labels)) != len(labels):
        return "data_level0.bin: two records have one label"
    return None


def _lengths(h: Header, lengths: bytes) -> str | None:
    norms = np.frombuffer(lengths, dtype="<f4", count=h.count)
    if not np.all(np.isfinite(norms)) or np.any(norms < 0):
        return "length.bin: a vector length is not a number"
    return None


def _upper_levels(h: Header, links: bytes) -> str | None:
    """link_lists.bin: per record, a byte size then that many bytes of upper-level lists (`max_m` ids each)."""
    block = 4 * h.max_m + 4
    offset, top = 0, 0
    blocks: list[bytes] = []
    for _ in range(h.count):
        if offset + 4 > len(links):
            return "link_lists.bin ends before its last record"
        (size,) = struct.unpack_from("<I", links, offset)
        offset += 4
        if size % block or size // block > MAX_LEVEL or offset + size > len(links):
            return "link_lists.bin: a record's level is out of range"
        top = max(top, size // block)
        blocks.append(links[offset : offset + size])
        offset += size
    if top > h.max_level:
        return "link_lists.bin: a record sits above the index's top level"
    if blocks and any(blocks):
        lists = np.frombuffer(b"".join(blocks), dtype="<u4").reshape(-1, h.max_m + 1)
        counts = lists[:, 0] & 0xFFFF
        if int(counts.max()) > h.max_m:
            return "link_lists.bin: a list claims more neighbours than the index allows"
        used = np.arange(h.max_m)[None, :] < counts[:, None]
        if np.any(lists[:, 1:][used] >= h.count):
            return "link_lists.bin: a neighbour id points past the last record"
    return None


class Seal:
    """The sizes and times of the store's files when it last passed the check, kept in `data_dir/store.checked`."""

    def __init__(self, data_dir: Path) -> None:
        self.file = data_dir / "store.checked"
        self.store = data_dir / "chroma"

    def files(self) -> dict[str, list[int]]:
        """Each file of the store, by its path under the store's folder, with its size and modification time."""
        found: dict[str, list[int]] = {}
        if self.store.is_dir():
            for path in sorted(self.store.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    found[str(path.relative_to(self.store))] = [stat.st_size, stat.st_mtime_ns]
        return found

    def holds(self) -> bool:
        """Whether the store's files are exactly as they were when last checked."""
        try:
            return bool(json.loads(self.file.read_text(encoding="utf-8")) == self.files())
        except (OSError, ValueError):
            return False

    def put(self) -> None:
        """Record the store's files as checked (on a full disk they are not, and the next open reads them again)."""
        try:
            self.file.write_text(json.dumps(self.files()), encoding="utf-8")
        except OSError:
            self.file.unlink(missing_ok=True)

    def remove(self) -> None:
        """Forget the last check (the store is about to change, or was found damaged)."""
        self.file.unlink(missing_ok=True)
