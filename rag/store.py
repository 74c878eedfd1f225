"""Chroma, through llama-index's ChromaVectorStore: one record per sentence, one manifest record per article."""

from __future__ import annotations

import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import BaseNode, TextNode
from llama_index.core.vector_stores import VectorStoreQuery
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.corpus import Article
from rag.settings import Settings

Progress = Callable[[int, int, str], None]  # (done, total, what) after each article


@dataclass(frozen=True)
class Record:
    """A stored sentence, with what is needed to cite its paragraph."""

    id: str
    text: str
    document: str
    title: str
    lang: str
    paragraph: int
    paragraph_id: str
    kind: str
    sentence: int
    start: int
    end: int


@dataclass(frozen=True)
class StoredArticle:
    """The manifest entry of an article whose sentences are all stored."""

    id: str
    digest: str
    title: str
    lang: str
    sentences: int


LOCK_WAIT = 3.0  # seconds to wait for another process to let go of an embedded store before saying it is in use
REBUILD = "run `rag ingest --rebuild` to build it again from the articles"


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message names the cure."""


class DamagedStore(StoreError):
    """The embedded store's files cannot be read; `open_client(settings, fresh=True)` deletes and recreates them."""


def open_client(settings: Settings, fresh: bool = False) -> Any:
    """A Chroma client: HTTP when a server URL is configured, else embedded in the data directory.

    The embedded store is locked against other processes (Chroma's is not safe for two at once) and checked on
    opening; with `fresh`, its folder is deleted first so a damaged store can be made anew.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from chromadb.errors import ChromaError

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        match = re.match(r"^(https?)://([^:/]+)(?::(\d+))?", settings.chroma_url)
        if not match:
            raise StoreError(f"RAG_CHROMA_URL must look like http://host:8000, not {settings.chroma_url!r}")
        headers = {}
        if settings.chroma_token:
            headers["Authorization"] = f"Bearer {settings.chroma_token.get_secret_value()}"
        return chromadb.HttpClient(
            host=match.group(2),
            port=int(match.group(3) or (443 if match.group(1) == "https" else 8000)),
            ssl=match.group(1) == "https",
            headers=headers,
            settings=chroma_settings,
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock(settings.data_dir)
    path = settings.data_dir / "chroma"
    if fresh:
        _delete_store(path)
    try:
        client: Any = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except ChromaError as error:
        _forget(path)
        raise DamagedStore(f"The store in {path} cannot be read ({error}); {REBUILD}.") from error
    try:
        _check(client)
    except (ChromaError, DamagedStore) as error:
        client.close()  # lets go of Chroma's shared state for the path, so it can be opened anew after a rebuild
        raise DamagedStore(f"The store in {path} is damaged ({error}); {REBUILD}.") from error
    return client


class Store:
    """The sentences of all articles with their vectors, and a manifest of complete articles."""

    def __init__(self, client: Any, embedder: BaseEmbedding, slug: str) -> None:
        self.client = client
        self.embedder = embedder
        space = {"hnsw:space": "cosine"}
        self.sentences = client.get_or_create_collection(f"sentences-{slug}", metadata=space)
        self.articles = client.get_or_create_collection(f"articles-{slug}", metadata=space)
        self.vectors = ChromaVectorStore(chroma_collection=self.sentences)

    def manifest(self) -> dict[str, StoredArticle]:
        """Articles whose sentences are completely stored, by id."""
        got = self.articles.get(include=["metadatas"])
        return {
            id_: StoredArticle(id_, str(m["digest"]), str(m["title"]), str(m["lang"]), int(m["sentences"]))
            for id_, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def records(self, manifest: dict[str, StoredArticle]) -> list[Record]:
        """Every stored sentence of a complete article (leftovers of an interrupted write are ignored)."""
        got = self.sentences.get(include=["documents", "metadatas"])
        records = []
        for id_, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
            stored = manifest.get(str(meta.get("document")))
            if stored is None or stored.digest != meta.get("digest"):
                continue
            records.append(
                Record(
                    id=id_,
                    text=text,
                    document=str(meta["document"]),
                    title=str(meta["title"]),
                    lang=str(meta["lang"]),
                    paragraph=int(meta["paragraph"]),
                    paragraph_id=str(meta["paragraph_id"]),
                    kind=str(meta["kind"]),
                    sentence=int(meta["sentence"]),
                    start=int(meta["start"]),
                    end=int(meta["end"]),
                )
            )
        records.sort(key=lambda r: (r.document, r.paragraph, r.sentence))
        return records

    def write(self, article: Article, batch_size: int = 64) -> int:
        """Replace an article's sentences, then mark it complete in the manifest; returns sentences embedded."""
        self.remove(article.id)
        nodes = [
            TextNode(
                id_=f"{paragraph.id}:s{number}",
                text=sentence.text,
                metadata={
                    "document": article.id,
                    "title": article.title,
                    "lang": article.lang,
                    "paragraph": paragraph.number,
                    "paragraph_id": paragraph.id,
                    "kind": paragraph.kind,
                    "sentence": number,
                    "start": sentence.start,
                    "end": sentence.end,
                    "digest": article.digest,
                },
            )
            for paragraph in article.paragraphs
            for number, sentence in enumerate(paragraph.sentences)
        ]
        vectors: list[list[float]] = []
        for batch in _batches([node.text for node in nodes], batch_size):
            vectors.extend(self.embedder.get_text_embedding_batch(batch))
        for node, vector in zip(nodes, vectors, strict=True):
            node.embedding = vector
        self.vectors.add(list[BaseNode](nodes))
        # The manifest entry is written last: an article without one is incomplete and gets rewritten.
        self.articles.upsert(
            ids=[article.id],
            embeddings=[_mean(vectors)],
            documents=[article.title],
            metadatas=[
                {
                    "digest": article.digest,
                    "title": article.title,
                    "lang": article.lang,
                    "source": article.source,
                    "byline": article.byline,
                    "path": str(article.path),
                    "paragraphs": len(article.paragraphs),
                    "sentences": len(nodes),
                }
            ],
        )
        return len(nodes)

    def remove(self, document: str) -> None:
        """Delete an article: its manifest entry first, so a crash in between leaves it marked incomplete."""
        self.articles.delete(ids=[document])
        self.sentences.delete(where={"document": document})

    def clear(self) -> None:
        """Delete every record, leftovers of interrupted writes included."""
        self.articles.delete(where={"digest": {"$ne": ""}})
        self.sentences.delete(where={"document": {"$ne": ""}})

    def search(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The ids of the `k` sentences nearest to `vector` (matching `where`), with cosine similarity."""
        if k <= 0:
            return []
        query = VectorStoreQuery(query_embedding=list(vector), similarity_top_k=k)
        result = self.vectors.query(query, where=where) if where else self.vectors.query(query)
        # ChromaVectorStore reports exp(-distance); cosine distance is 1 - similarity.
        return [
            (id_, 1.0 + math.log(max(s, 1e-12)))
            for id_, s in zip(result.ids or [], result.similarities or [], strict=True)
        ]


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _mean(vectors: list[list[float]]) -> list[float]:
    import numpy as np

    if not vectors:
        return [0.0]
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean)) or 1.0
    return (mean / norm).tolist()  # type: ignore[no-any-return]


_locks: dict[Path, Any] = {}  # data directories this process has locked, with their open lock files
_locking = threading.Lock()


def lock(data_dir: Path) -> None:
    """Hold the data directory's lock for as long as this process lives, or raise StoreError naming the holder."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one process at a time is up to the user
        return
    folder = Path(data_dir).resolve()
    with _locking:
        if folder in _locks:
            return
        handle = open(folder / "store.lock", "a+", encoding="utf-8")  # noqa: SIM115 (held open until exit)
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip()
                    handle.close()
                    raise StoreError(
                        f"The store in {folder} is in use by another process{f' (pid {holder})' if holder else ''}. "
                        "Stop it first (a running chat page holds the store), or let both use one Chroma server: "
                        "`chroma run --path DIR` and RAG_CHROMA_URL=http://127.0.0.1:8000."
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _locks[folder] = handle


def _check(client: Any) -> None:
    """Read a few records of each collection back by their own vectors: Chroma notices damaged files only on reading,
    and a damaged vector index may answer with the wrong records rather than fail."""
    for collection in client.list_collections():
        count = collection.count()
        for offset in sorted({0, count // 4, count // 2, 3 * count // 4, count - 1} if count else set()):
            got = collection.get(offset=offset, limit=1, include=["embeddings"])
            # Restricted to the record's own id the search is exact, so anything but a perfect match is damage.
            found = collection.query(
                query_embeddings=got["embeddings"], ids=got["ids"], n_results=1, include=["distances"]
            )
            distances = (found["distances"] or [[]])[0]
            if not distances or distances[0] > 1e-3:
                raise DamagedStore(f"collection {collection.name!r} does not find its own records")


def _delete_store(path: Path) -> None:
    """Delete the embedded store's folder, after making sure it holds nothing but what Chroma writes there."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise StoreError(f"{path} is not the folder Chroma made; remove it yourself, then {REBUILD}.")
    if not path.exists():
        return
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    for entry in path.iterdir():
        chroma_file = entry.name.startswith("chroma.sqlite3") and entry.is_file()
        if not (chroma_file or (uuid.match(entry.name) and entry.is_dir() and not entry.is_symlink())):
            raise StoreError(f"{path} holds {entry.name!r}, which Chroma did not write; move it away, then {REBUILD}.")
    shutil.rmtree(path)


def _forget(path: Path) -> None:
    """Drop the half-started system Chroma keeps for `path` after failing to open it, which every later open in
    this process would reuse (and fail on), so that the store can be made anew."""
    from chromadb.api.shared_system_client import SharedSystemClient

    getattr(SharedSystemClient, "_identifier_to_system", {}).pop(str(path), None)
