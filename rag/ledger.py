"""What the store holds, recorded outside Chroma: a store that comes back smaller than recorded is damaged.

A small JSON file in the data directory, replaced atomically after every write and before every removal, so it
never claims more than the store holds (a killed write leaves the record behind the store, never ahead of it).
Without it, an emptied `chroma.sqlite3` looks like a store that never held anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

UPLOAD = "upload"  # the origin of articles added through the chat page (their files are kept in data_dir/uploads)


class Entry(Protocol):
    """What the ledger needs of a stored article."""

    @property
    def id(self) -> str: ...

    @property
    def digest(self) -> str: ...

    @property
    def origin(self) -> str: ...


@dataclass(frozen=True)
class Holding:
    """What the store held after its last recorded change."""

    articles: int = 0
    digest: str = "0" * 64  # XOR of each article's (id, digest) hash: order-free, so it can be kept up to date
    origins: dict[str, int] = field(default_factory=dict)  # articles per origin (a folder, or "upload")
    pending: tuple[str, ...] = ()  # origins a rebuild has still to ingest again
    readable: bool = True  # false when the file was there but could not be read


class Ledger:
    """The record file of one store; thread-safe."""

    def __init__(self, path: Path, store: str) -> None:
        self.path = path
        self.store = store  # where the store lives ("embedded" or a server URL): a record of another one is ignored
        self._lock = threading.Lock()

    def read(self) -> Holding | None:
        """The record, or None when this data directory never recorded this store."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return Holding(readable=False)  # something was recorded here: never take it for a fresh directory
        if not isinstance(data, dict) or data.get("store") != self.store:
            return None
        try:
            return Holding(
                articles=int(data["articles"]),
                digest=str(data["digest"]),
                origins={str(k): int(v) for k, v in dict(data["origins"]).items()},
                pending=tuple(str(p) for p in data.get("pending", [])),
            )
        except (KeyError, TypeError, ValueError):
            return Holding(readable=False)

    def reset(self, entries: Iterable[Entry], pending: Iterable[str] = ()) -> Holding:
        """Record exactly `entries` (the whole manifest)."""
        with self._lock:
            holding = _changed(Holding(pending=tuple(pending)), added=entries, removed=())
            self._write(holding)
            return holding

    def change(self, added: Iterable[Entry] = (), removed: Iterable[Entry] = ()) -> None:
        """Record articles written (`added`, each replacing its entry in `removed` if any) or removed."""
        with self._lock:
            held = self.read()
            self._write(_changed(held if held is not None and held.readable else Holding(), added, removed))

    def done(self, origin: str) -> None:
        """Record that a rebuild has ingested `origin` again."""
        with self._lock:
            held = self.read()
            if held is not None and origin in held.pending:
                self._write(
                    Holding(held.articles, held.digest, held.origins, tuple(p for p in held.pending if p != origin))
                )

    def _write(self, holding: Holding) -> None:
        data = {
            "store": self.store,
            "articles": holding.articles,
            "digest": holding.digest,
            "origins": dict(sorted(holding.origins.items())),
            "pending": list(holding.pending),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)  # readers see the old record or the new one, never half of one
        except BaseException:
            temporary.unlink(missing_ok=True)  # a full disk keeps no half file
            raise


def _changed(held: Holding, added: Iterable[Entry], removed: Iterable[Entry]) -> Holding:
    digest = int(held.digest, 16)
    origins = dict(held.origins)
    articles = held.articles
    for entry, sign in [(e, -1) for e in removed] + [(e, 1) for e in added]:
        digest ^= _hash(entry)
        articles += sign
        origins[entry.origin] = origins.get(entry.origin, 0) + sign
    return Holding(max(articles, 0), f"{digest:064x}", {k: v for k, v in origins.items() if v > 0}, held.pending)


def _hash(entry: Entry) -> int:
    return int(hashlib.sha256(f"{entry.id}\0{entry.digest}".encode("utf-8", "surrogatepass")).hexdigest(), 16)
