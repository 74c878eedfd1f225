"""Chroma: one record per sentence (with its search terms), one manifest record per article.

Sentences live in one collection per article language: retrieval searches each language apart, and a
Chroma query filtered by a metadata field costs ~0.7 s at 250,000 sentences, against ~1 ms unfiltered.
Sentences are written through llama-index's ChromaVectorStore, so the collections are llama-index's own
format (`VectorStoreIndex.from_vector_store` reads them). They are read and searched through the chromadb
collections directly: the read wants the metadata only (not the node JSON ChromaVectorStore parses), and
the search wants ids and distances only.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from rag.corpus import Article
from rag.embeddings import Embedder
from rag.integrity import Seal, damage
from rag.ledger import Ledger
from rag.settings import Settings

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
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
    origin: str = ""  # where it came from: the folder it was ingested from, or "upload"
    tidy: bool = True  # false while an earlier version's sentences may still be stored beside this one's


@dataclass(frozen=True)
class Origin:
    """Where a stored article came from: its file name or link, its publication date, and for a PDF the paragraph
    each page starts with (page number -> paragraph number)."""

    source: str = ""
    published: str = ""
    pages: tuple[tuple[int, int], ...] = ()

    def page_of(self, paragraph: int) -> tuple[int | None, int | None]:
        """The page paragraph `paragraph` starts on, and its number among the paragraphs starting on that page."""
        found = [(page, first) for page, first in self.pages if first <= paragraph]
        if not found:
            return None, None
        page, first = found[-1]
        return page, paragraph - first + 1


@dataclass(frozen=True)
class Terms:
    """How a sentence is cut into its search terms when it is written, and the tokenizer version that marks them."""

    version: str
    cut: Callable[[str], list[str]]


@dataclass(frozen=True)
class Sentences:
    """Stored sentences of complete articles, each with its search terms when they were stored with this tokenizer."""

    records: list[Record]
    terms: list[list[str] | None]
    articles: dict[str, StoredArticle]  # the articles all of whose sentences are in `records`


LOCK_WAIT = 3.0  # seconds to wait for another process to let go of an embedded store before saying it is in use
REBUILD = "run `rag ingest --rebuild` to build it again from the articles"


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message names the cure."""


class DamagedStore(StoreError):
    """The embedded store's files cannot be read; `open_client(settings, fresh=True)` deletes and recreates them."""


class DiskFull(StoreError):
    """A write was refused for want of space: the store is as it was before it, and a rebuild would not help."""


class StoreUnreachable(StoreError):
    """The Chroma server (`RAG_CHROMA_URL`) does not answer; the next call tries again."""


@contextmanager
def plainly(settings: Settings) -> Iterator[None]:
    """Turn a full disk or an unreachable Chroma server, however the library under us reports it, into a
    StoreError that says so plainly and where (no traceback, no rebuild advice: neither is damage)."""
    try:
        yield
    except StoreError:
        raise
    except BaseException as error:
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit: never a disk's fault
        plain = plain_failure(error, settings)
        if plain is None:
            raise
        raise plain from error


def plain(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """A method (of an object with `settings`) whose full disk or unreachable Chroma server is a plain StoreError."""

    @functools.wraps(method)
    def plainly_(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        with plainly(self.settings):
            return method(self, *args, **kwargs)

    return plainly_


def plain_failure(error: BaseException, settings: Settings) -> StoreError | None:
    """The plain StoreError for a full disk or an unreachable Chroma server, or None for any other failure."""
    causes: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 8:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    full: str | Path | None = None
    for cause in causes:
        text = str(cause).lower()
        if (isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT)) or any(
            words in text for words in ("disk is full", "no space left", "quota exceeded")
        ):
            filename = getattr(cause, "filename", None)
            full = Path(filename).parent if filename else settings.chroma_url or settings.data_dir
            break
    # Chroma does not always say why a write failed ("Failed to apply logs to the metadata segment"): in the
    # embedded store, a failure with next to no room left is taken for what it most likely is.
    if (
        full is None
        and not settings.chroma_url
        and any(_storage_failure(cause) for cause in causes)
        and free_bytes(settings.data_dir) < LOW_SPACE
    ):
        full = settings.data_dir
    if full is not None:
        return DiskFull(
            f"The disk holding {full} is full: nothing more can be written there. Free some space and try again; "
            "what was stored before is kept as it was."
        )
    if settings.chroma_url and any(_unreachable(cause) for cause in causes):
        return StoreUnreachable(
            f"The Chroma server at {settings.chroma_url} (RAG_CHROMA_URL) cannot be reached "
            f"({_first_line(error)}); is it running? Try again once it is."
        )
    return None


LOW_SPACE = 16_000_000  # bytes free under which a failing write of the embedded store is put down to a full disk


def free_bytes(folder: Path) -> int:
    """The bytes free to this user on the file system holding `folder` (or its nearest existing parent)."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return LOW_SPACE


def _storage_failure(error: BaseException) -> bool:
    """Whether `error` comes from writing files: the operating system, SQLite, or Chroma (its Rust core included)."""
    kind = type(error)
    return isinstance(error, OSError | sqlite3.Error) or kind.__module__.startswith("chromadb") or kind.__name__ == "PanicException"


def _unreachable(error: BaseException) -> bool:
    """Whether `error` is a connection that could not be made, or was lost (not an answer from the server)."""
    if isinstance(error, ConnectionError | TimeoutError | socket.gaierror):
        return True
    try:
        import httpx
    except ImportError:
        return False
    return isinstance(error, httpx.TransportError)


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
    seal = Seal(settings.data_dir)
    if fresh:
        seal.remove()
        _delete_store(path)
    checked = seal.holds()  # files unchanged since they last passed: the full read is not needed again
    problem = None if checked else damage(path)
    if problem:
        raise DamagedStore(f"The store in {path} is damaged ({problem}); {REBUILD}.")
    try:
        client: Any = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except BaseException as error:
        if not _chroma_failure(error, ChromaError):
            raise
        _forget(path)
        if (plain := plain_failure(error, settings)) is not None:
            raise plain from error
        raise DamagedStore(f"The store in {path} cannot be read ({_first_line(error)}); {REBUILD}.") from error
    try:
        _check(client)
    except BaseException as error:
        if not _chroma_failure(error, ChromaError) and not isinstance(error, DamagedStore):
            raise
        client.close()  # lets go of Chroma's shared state for the path, so it can be opened anew after a rebuild
        if (plain := plain_failure(error, settings)) is not None:
            raise plain from error
        raise DamagedStore(f"The store in {path} is damaged ({_first_line(error)}); {REBUILD}.") from error
    if not checked:
        seal.put()
    return client


def _chroma_failure(error: BaseException, chroma_error: type[Exception]) -> bool:
    """Whether `error` is Chroma failing on its files: its own errors, or a panic of its Rust core (which is not an
    Exception, so that ordinary handlers let it through)."""
    return isinstance(error, chroma_error) or type(error).__name__ == "PanicException"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


SPACE = {"hnsw:space": "cosine"}


class Store:
    """The sentences of all articles with their vectors, and a manifest of complete articles."""

    page = 2000  # records per read or write request: under Chroma's batch limit and a server's 40 MB payload limit

    def __init__(
        self, client: Any, embedder: Embedder, slug: str, ledger: Ledger | None = None, terms: Terms | None = None
    ) -> None:
        self.client = client
        self.embedder = embedder
        self.slug = slug
        self.ledger = ledger  # told of every write and removal, when the store's holdings are recorded
        # Search terms are cut once at writing and stored, so no reader (in this process or another) cuts them again.
        self.terms = terms
        self.sentences = SentenceCollections(client, slug)
        self.articles = client.get_or_create_collection(f"articles-{slug}", metadata=SPACE)
        self.state = client.get_or_create_collection(f"state-{slug}")
        self._migrate()

    def _migrate(self) -> None:
        """Move the sentences of a store written before they were split by language (one collection)."""
        legacy = f"sentences-{self.slug}"
        if legacy not in {collection.name for collection in self.client.list_collections()}:
            return
        old = self.client.get_collection(legacy)
        while (got := old.get(include=["documents", "metadatas", "embeddings"], limit=self.page))["ids"]:
            by_lang: dict[str, list[int]] = {}
            for i, meta in enumerate(got["metadatas"] or []):
                by_lang.setdefault(str(meta.get("lang", "")), []).append(i)
            for lang, rows in by_lang.items():
                self.sentences.of(lang).upsert(
                    ids=[got["ids"][i] for i in rows],
                    embeddings=[got["embeddings"][i] for i in rows],  # type: ignore[index]
                    documents=[(got["documents"] or [])[i] for i in rows],
                    metadatas=[_ours((got["metadatas"] or [])[i]) for i in rows],
                )
            old.delete(ids=got["ids"])
        self.client.delete_collection(legacy)

    def revision(self) -> str:
        """A token that changes whenever articles are written or removed ("" for a store never written since
        tokens were introduced): one tiny read tells an instance whether another one changed the store."""
        got = self.state.get(ids=["revision"], include=["metadatas"])
        return str(got["metadatas"][0]["revision"]) if got["ids"] and got["metadatas"] else ""

    def _changed(self) -> None:
        self.state.upsert(ids=["revision"], embeddings=[[1.0]], metadatas=[{"revision": uuid.uuid4().hex}])

    def count(self) -> int:
        """How many articles the manifest lists (cheaper than reading it)."""
        return int(self.articles.count())

    def manifest(self) -> dict[str, StoredArticle]:
        """Articles whose sentences are completely stored, by id."""
        got = self.articles.get(include=["metadatas"])
        return {id_: _stored(id_, m) for id_, m in zip(got["ids"], got["metadatas"] or [], strict=True)}

    def origins(self, documents: Iterable[str]) -> dict[str, Origin]:
        """Where each of `documents` came from (articles stored before this was kept get their file name)."""
        wanted = sorted(set(documents))
        if not wanted:
            return {}
        got = self.articles.get(ids=wanted, include=["metadatas"])
        origins = {}
        for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            pages = [item.split(":") for item in str(meta.get("pages") or "").split()]
            origins[id_] = Origin(
                source=str(meta.get("url") or "") or Path(str(meta.get("path") or "")).name,
                published=str(meta.get("published") or ""),
                pages=tuple((int(page), int(first)) for page, first in pages),
            )
        return origins

    def read(self, manifest: dict[str, StoredArticle], documents: Sequence[str] | None = None) -> Sentences:
        """The stored sentences of the complete articles among `documents` (default: all), in reading order.

        Leftovers of an interrupted write are ignored, and an article caught half-replaced by another writer
        is left out of `articles` (its sentence count does not match its manifest entry).
        """
        wanted = sorted(manifest if documents is None else set(documents) & set(manifest))
        seen: dict[str, tuple[Record, list[str] | None]] = {}
        for got in self._pages(None if documents is None else wanted, manifest):
            for id_, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                stored = manifest.get(str(meta.get("document")))
                if stored is None or stored.digest != meta.get("digest"):
                    continue
                current = self.terms is not None and meta.get("tokenizer") == self.terms.version
                terms = str(meta["terms"]).split() if current else None
                seen[id_] = (_record(id_, str(text), meta), terms)
        rows = sorted(seen.values(), key=lambda row: (row[0].document, row[0].paragraph, row[0].sentence))
        counts: dict[str, int] = {}
        for record, _ in rows:
            counts[record.document] = counts.get(record.document, 0) + 1
        complete = {d: manifest[d] for d in wanted if counts.get(d, 0) == manifest[d].sentences}
        rows = [row for row in rows if row[0].document in complete]
        return Sentences([record for record, _ in rows], [terms for _, terms in rows], complete)

    def _pages(self, documents: list[str] | None, manifest: dict[str, StoredArticle]) -> Iterable[Any]:
        if documents is None:
            for collection in self.sentences.all():
                for offset in range(0, collection.count(), self.page):
                    yield collection.get(include=["documents", "metadatas"], limit=self.page, offset=offset)
            return
        by_lang: dict[str, list[str]] = {}
        for document in documents:
            by_lang.setdefault(manifest[document].lang, []).append(document)
        for lang, wanted in by_lang.items():
            for batch in _batches(wanted, 100):
                yield self.sentences.of(lang).get(where=_documents(batch), include=["documents", "metadatas"])

    def write(self, articles: Article | Sequence[Article], batch_size: int = 64, origin: str = "") -> Sentences:
        """Store articles (new versions beside the old), mark them complete in the manifest, then delete their
        old versions; returns what was written (every sentence embedded), as `read` would return it.

        Until the manifest entry changes, reads see the old version whole; after, the new one: a write killed at
        any point leaves each article answering in one version or the other, never in none."""
        # llama-index (2 s to import) is needed to write, not to answer.
        from llama_index.core.schema import BaseNode, TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        articles = [articles] if isinstance(articles, Article) else list(articles)
        if not articles:
            return Sentences([], [], {})
        ids: list[str] = []
        texts: list[str] = []
        langs: list[str] = []
        metadatas: list[dict[str, str | int]] = []
        for article in articles:
            for paragraph in article.paragraphs:
                for number, sentence in enumerate(paragraph.sentences):
                    # The version is in the id, so a new version's records never overwrite the old one's.
                    ids.append(f"{paragraph.id}:s{number}:{article.digest[:12]}")
                    texts.append(sentence.text)
                    langs.append(article.lang)
                    meta: dict[str, str | int] = {
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
                    }
                    if self.terms is not None:
                        meta.update(terms=" ".join(self.terms.cut(sentence.text)), tokenizer=self.terms.version)
                    metadatas.append(meta)
        vectors: list[list[float]] = []
        for batch in _batches(texts, batch_size):
            vectors.extend(self.embedder.get_text_embedding_batch(batch))
        for lang in sorted(set(langs)):
            rows = [i for i, row_lang in enumerate(langs) if row_lang == lang]
            vector_store = ChromaVectorStore(chroma_collection=self.sentences.of(lang))
            for chunk in _batches(rows, self.page):
                nodes = [
                    TextNode(id_=ids[i], text=texts[i], metadata=metadatas[i], embedding=vectors[i]) for i in chunk
                ]
                vector_store.add(list[BaseNode](nodes))
        # The manifest entries are written after the sentences: an article without one is incomplete and gets
        # rewritten, and one with its old entry still reads its old version.
        first = 0
        means: list[list[float]] = []
        for article in articles:
            count = article.sentence_count
            means.append(_mean(vectors[first : first + count]))
            first += count
        documents = [article.id for article in articles]
        previous = self._entries(documents)
        entries = [
            {
                "digest": article.digest,
                "title": article.title,
                "lang": article.lang,
                "source": article.source,
                "byline": article.byline,
                "path": str(article.path),
                "url": article.url,
                "published": article.published,
                "pages": _page_starts(article),
                "origin": origin,
                "paragraphs": len(article.paragraphs),
                "sentences": article.sentence_count,
                "tidy": 0,
            }
            for article in articles
        ]
        manifest = dict(documents=[article.title for article in articles], embeddings=means)
        self.articles.upsert(ids=documents, metadatas=entries, **manifest)  # type: ignore[arg-type]
        self._changed()
        if self.ledger is not None:
            self.ledger.change(added=[_stored(d, m) for d, m in zip(documents, entries, strict=True)], removed=previous)
        self._drop_stale({article.id: article.digest for article in articles}, keep=set(ids))
        self.articles.upsert(ids=documents, metadatas=[{**m, "tidy": 1} for m in entries], **manifest)  # type: ignore[arg-type]
        terms = [str(meta["terms"]).split() if "terms" in meta else None for meta in metadatas]
        records = [_record(id_, text, meta) for id_, text, meta in zip(ids, texts, metadatas, strict=True)]
        written = {
            article.id: StoredArticle(article.id, article.digest, article.title, article.lang, article.sentence_count)
            for article in articles
        }
        return Sentences(records, list[list[str] | None](terms), written)

    def remove(self, document: str | Sequence[str], record: bool = True) -> None:
        """Delete articles: the record of what the store holds first (unless not to `record`), then the manifest
        entries, so a crash in between leaves them marked incomplete and the record claiming no more than is held."""
        documents = [document] if isinstance(document, str) else list(document)
        for batch in _batches(documents, 100):
            if self.ledger is not None and record:
                self.ledger.change(removed=self._entries(batch))
            self._remove(batch)

    def tidy(self, manifest: dict[str, StoredArticle]) -> None:
        """Delete what a killed write left of the earlier versions of the articles in `manifest` not marked tidy."""
        untidy = {document: entry.digest for document, entry in manifest.items() if not entry.tidy}
        if untidy:
            self._drop_stale(untidy)
            got = self.articles.get(ids=sorted(untidy), include=["metadatas", "embeddings", "documents"])
            self.articles.upsert(
                ids=got["ids"],
                embeddings=got["embeddings"],
                documents=got["documents"],
                metadatas=[{**m, "tidy": 1} for m in got["metadatas"] or []],
            )

    def _entries(self, documents: Sequence[str]) -> list[StoredArticle]:
        got = self.articles.get(ids=list(documents), include=["metadatas"])
        return [_stored(id_, m) for id_, m in zip(got["ids"], got["metadatas"] or [], strict=True)]

    def _drop_stale(self, digests: dict[str, str], keep: set[str] | None = None) -> None:
        """Delete the sentences of these articles that belong to another version than `digests` names (or, given
        `keep`, are not among its ids)."""
        for collection in self.sentences.all(refresh=True):  # every language's: an edit may change the language
            for batch in _batches(sorted(digests), 100):
                got = collection.get(where=_documents(batch), include=["metadatas"])
                stale = [
                    id_
                    for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
                    if meta.get("digest") != digests.get(str(meta.get("document")))
                    or (keep is not None and id_ not in keep)
                ]
                for chunk in _batches(stale, self.page):
                    collection.delete(ids=chunk)

    def _remove(self, documents: list[str]) -> None:
        self.articles.delete(ids=documents)
        # Every language's collection: an edited article may have changed language.
        for collection in self.sentences.all(refresh=True):
            for batch in _batches(documents, 100):
                collection.delete(where=_documents(batch))
        self._changed()

    def clear(self) -> None:
        """Delete every record, leftovers of interrupted writes included."""
        self.articles.delete(where={"digest": {"$ne": ""}})
        for collection in self.sentences.all(refresh=True):
            collection.delete(where={"document": {"$ne": ""}})
        self._changed()

    def vectors(self, lang: str, ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored vectors of the sentences `ids` of one language, by id (those not stored are left out)."""
        collection = self.sentences.of(lang, create=False)
        if collection is None or not ids:
            return {}
        found: dict[str, list[float]] = {}
        for batch in _batches(list(ids), self.page):
            got = collection.get(ids=batch, include=["embeddings"])
            embeddings = got["embeddings"] if got["embeddings"] is not None else []
            found.update((id_, [float(x) for x in vector]) for id_, vector in zip(got["ids"], embeddings, strict=True))
        return found

    def search(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The ids of the `k` sentences nearest to `vector` (matching `where`), with cosine similarity.

        `where={"lang": ...}` searches that language's collection alone, unfiltered."""
        if k <= 0:
            return []
        if where is not None and set(where) == {"lang"} and isinstance(where["lang"], str):
            collection = self.sentences.of(where["lang"], create=False)
            collections, where = ([collection] if collection is not None else []), None
        else:
            collections = self.sentences.all()
        found: list[tuple[float, str]] = []
        for collection in collections:
            result = collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
            found.extend(zip((result["distances"] or [[]])[0], result["ids"][0], strict=True))
        # Cosine distance is 1 - similarity.
        return [(id_, 1.0 - distance) for distance, id_ in sorted(found)[:k]]


class SentenceCollections:
    """A store's sentence collections, one per article language, found by name and opened when first needed."""

    def __init__(self, client: Any, slug: str) -> None:
        self.client = client
        self.prefix = f"sentences-{slug}-"
        self._open: dict[str, Any] = {}
        self.all(refresh=True)

    def of(self, lang: str, create: bool = True) -> Any:
        """The collection of sentences in `lang` (None when it does not exist and `create` is false)."""
        name = self.prefix + (re.sub(r"[^a-z0-9]+", "-", lang.lower()).strip("-") or "none")
        if name not in self._open:
            if not create and name not in {c.name for c in self.all(refresh=True)}:
                return None
            self._open[name] = self.client.get_or_create_collection(name, metadata=SPACE)
        return self._open[name]

    def all(self, refresh: bool = False) -> list[Any]:
        """Every language's collection (`refresh`: including those another instance created since)."""
        if refresh:
            for collection in self.client.list_collections():
                if collection.name.startswith(self.prefix) and collection.name not in self._open:
                    self._open[collection.name] = self.client.get_collection(collection.name)
        return [self._open[name] for name in sorted(self._open)]

    def count(self) -> int:
        """Sentences stored, in all languages."""
        return sum(int(collection.count()) for collection in self.all(refresh=True))


def _documents(batch: list[str]) -> dict[str, Any]:
    return {"document": {"$in": batch}} if len(batch) > 1 else {"document": batch[0]}


def _ours(meta: Any) -> dict[str, Any]:
    """A record's metadata without what llama-index's ChromaVectorStore added to it."""
    return {
        k: v
        for k, v in dict(meta).items()
        if not k.startswith("_") and k not in ("doc_id", "document_id", "ref_doc_id")
    }


def _stored(id_: str, meta: Any) -> StoredArticle:
    # A manifest entry written before origins were recorded came from the folder its file was in.
    origin = str(meta.get("origin") or (Path(str(meta["path"])).parent if meta.get("path") else ""))
    return StoredArticle(
        id_,
        str(meta["digest"]),
        str(meta["title"]),
        str(meta["lang"]),
        int(meta["sentences"]),
        origin=origin,
        tidy=bool(meta.get("tidy", 1)),
    )


def _record(id_: str, text: str, meta: Any) -> Record:
    return Record(
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


def _page_starts(article: Article) -> str:
    """'page:paragraph' for the first paragraph starting on each page of a PDF ("" for other articles)."""
    starts: dict[int, int] = {}
    for paragraph in article.paragraphs:
        if paragraph.page is not None:
            starts.setdefault(paragraph.page, paragraph.number)
    return " ".join(f"{page}:{first}" for page, first in sorted(starts.items()))


def _batches(items: list[T], size: int) -> Iterable[list[T]]:
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


def unlock(data_dir: Path) -> None:
    """Let go of the data directory's lock (close the store's client first), so another process may open it."""
    with _locking:
        handle = _locks.pop(Path(data_dir).resolve(), None)
    if handle is not None:
        handle.close()


def _check(client: Any) -> None:
    """Read a few records of each collection back by their own vectors: Chroma notices damaged files only on reading,
    and a damaged vector index may answer with the wrong records rather than fail.

    The search is not restricted to the record's own id: among many equal vectors (an article repeating one sentence)
    hnswlib keeps few of them reachable, so a record may be found only through a twin. A twin counts when its stored
    vector is the record's own; a record whose vector leads to a different one is damage."""
    import numpy as np

    for collection in client.list_collections():
        count = collection.count()
        for offset in sorted({0, count // 4, count // 2, 3 * count // 4, count - 1} if count else set()):
            got = collection.get(offset=offset, limit=1, include=["embeddings"])
            if not got["ids"]:
                continue
            mine = np.asarray(got["embeddings"][0], dtype=np.float32)
            # hnswlib's search is approximate: a sound index may miss a record among its 10 nearest (seen once in
            # a 2,000-record store being rewritten). A wider search, which hnswlib makes more thorough, settles it.
            for wanted in (10, 100):
                found = collection.query(
                    query_embeddings=[mine.tolist()], n_results=min(count, wanted), include=["distances"]
                )
                distances = (found["distances"] or [[]])[0]
                near = [id_ for id_, d in zip(found["ids"][0], distances, strict=True) if d <= 1e-3]
                if got["ids"][0] in near:
                    break
            if got["ids"][0] in near:
                continue
            twins = collection.get(ids=near, include=["embeddings"]) if near else {"embeddings": []}
            if not any(np.allclose(np.asarray(v, dtype=np.float32), mine, atol=1e-6) for v in twins["embeddings"]):
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
