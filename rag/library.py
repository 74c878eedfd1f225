"""The library of articles: the store and the in-memory index over it, kept in line, and the ways articles come
in and go out — ingest a folder or a file, an upload, links; rebuild; remove. Opening it never ingests: a first
start's seed ingest is its own step (`first_start`)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.corpus import SUFFIXES, Article, Skipped, article_id, read_article, read_folder
from rag.embeddings import Embedder, model_slug
from rag.ledger import UPLOAD, Holding, Ledger
from rag.retrieve import Index
from rag.settings import Settings
from rag.store import (
    REBUILD,
    DamagedStore,
    Progress,
    Sentences,
    Store,
    Terms,
    open_client,
    plain,
    plain_failure,
    unlock,
)
from rag.text import TOKENIZER, cut

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    sentences_embedded: int = 0
    seconds: float = 0.0
    missing: list[str] = field(default_factory=list)  # came from this folder, gone from it, kept (no prune)
    origin: str = ""  # where the articles came from: the folder, or "upload"


class UploadRefused(ValueError):
    """An upload that would replace a different article of the same name, without the right to."""


class Library:
    """The articles held: the Chroma store and the index of its sentences, thread-safe for questions meanwhile."""

    refresh_seconds = 1.0  # how long the index may go unchecked against a store other instances write to
    write_sentences = 512  # ingest writes articles in groups of about this many sentences

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        client: Any = None,
        notice: Callable[[str], None] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.notice = notice or log.warning  # what the user should hear of (a first start that ingests the seeds)
        self.progress = progress  # of the first start's ingest
        self._client = client
        self._store: Store | None = None
        self._index: Index | None = None
        self._checked = 0.0
        self._started = False  # whether `first_start` has looked
        self._lock = threading.RLock()

    @property
    @plain
    def store(self) -> Store:
        """The Chroma store, opened on first use."""
        if self._store is not None:
            return self._store  # without the lock, which an ingest holds while it runs
        with self._lock:
            if self._store is None:
                client = self._client if self._client is not None else open_client(self.settings)
                self._store = self._new_store(client)
            return self._store

    def _new_store(self, client: Any) -> Store:
        slug = model_slug(self.embedder)
        ledger = Ledger(self.settings.data_dir / f"holdings-{slug}.json", self.settings.chroma_url or "embedded")
        return Store(client, self.embedder, slug, ledger, terms=Terms(TOKENIZER, cut))

    @property
    def uploads_dir(self) -> Path:
        """Where the files of uploaded articles are kept, so that they can be ingested again."""
        return self.settings.data_dir / "uploads"

    def origin(self, path: Path) -> str:
        """Where articles read from `path` (a folder or a file) come from: the folder, or "upload"."""
        folder = Path(path).resolve()
        folder = folder.parent if folder.is_file() else folder
        return UPLOAD if folder.is_relative_to(self.uploads_dir.resolve()) else str(folder)

    @property
    @plain
    def index(self) -> Index:
        """The index of the stored sentences, loaded on first use (never ingesting anything), and brought up to
        date when another instance sharing the store has changed it (checked every `refresh_seconds`)."""
        current = self._index
        if current is not None and time.monotonic() - self._checked < self.refresh_seconds:
            return current
        if current is not None and not self._lock.acquire(blocking=False):
            return current  # an ingest is under way: questions meanwhile get the index as it was, without waiting
        if current is not None:
            self._lock.release()
        with self._lock:
            if self._index is None:
                self._index = self._open()[0]
            elif time.monotonic() - self._checked >= self.refresh_seconds:
                self._checked = time.monotonic()
                if self.store.revision() != self._index.revision:
                    self._index = self._load()
            return self._index

    def _open(self) -> tuple[Index, bool]:
        """The index at first use, once the store is known to hold at least what was recorded of it (else it
        is damaged); and whether the data directory never held anything (no record, no article)."""
        store = self.store
        ledger = store.ledger
        held = ledger.read() if ledger is not None else None
        count = store.count()
        if held is not None and count < held.articles and (count == 0 or not self.settings.chroma_url):
            # Another instance sharing a Chroma server may have removed articles: only an empty one is suspect there.
            raise self._damaged(f"it holds {count:,} articles where {held.articles:,} were recorded")
        if held is not None and not held.readable and count == 0:
            raise self._damaged("it holds no article, and the record of what it held cannot be read")
        if held is None and count == 0:
            saved = Index.load(self.index_path)
            if saved is not None and saved.manifest:  # a store from before records were kept, emptied since
                raise self._damaged(f"it holds no article where its keyword index lists {len(saved.manifest):,}")
        index = self._load()
        if ledger is not None and count and (held is None or not held.readable or held.articles != count):
            ledger.reset(store.manifest().values(), pending=held.pending if held is not None else ())
        return index, held is None and count == 0

    def _damaged(self, why: str) -> DamagedStore:
        where = self.settings.chroma_url or self.settings.data_dir / "chroma"
        return DamagedStore(f"The store in {where} is damaged ({why}); {REBUILD}.")

    @plain
    def first_start(self) -> IngestReport | None:
        """Ingest the seed articles into a data directory that never held anything (no record, no article), saying
        so with `notice` and `progress`; None, and nothing done, when it holds or has held articles."""
        with self._lock:
            if self._started:
                return None
            self._started = True
            self._index, fresh = self._open()
            if not fresh:
                return None
            folder = self.settings.seeds_dir
            self.notice(f"First start: ingesting the seed articles from {folder} into {self.settings.data_dir} …")
            report = self.ingest(folder, progress=self.progress, prune=False)
            self.notice(
                f"First start: {len(report.added)} seed articles ingested ({report.sentences_embedded} sentences) "
                f"in {report.seconds:.1f} s."
            )
            return report

    def _load(self) -> Index:
        """The index in line with the store: the saved one when the store has not changed since (same revision),
        else with the articles added, changed or removed since then read from the store (with their stored
        terms, so without jieba), and saved again."""
        # The revision is read first, so a change made while loading is seen at the next check.
        revision = self.store.revision()
        self._checked = time.monotonic()
        index = self._index if self._index is not None else Index.load(self.index_path) or Index()
        if revision and revision == index.revision:
            return index
        stored = self.store.manifest()
        digests = {document: article.digest for document, article in stored.items()}
        saved = index.revision == revision
        if index.manifest != digests:
            changed = [document for document, digest in digests.items() if index.manifest.get(document) != digest]
            index = index.updated(set(index.manifest) - set(digests) | set(changed), self.store.read(stored, changed))
            saved = False
        if not saved:
            index.revision = revision
            self._save(index)
        return index

    def _with(self, index: Index, removed: Sequence[str], written: Sequence[Sentences]) -> Index:
        """`index` with the articles `removed` taken out and those `written` put in (replacing earlier versions),
        saved. Its revision is left unknown, so the next check compares manifests once: another instance may
        have written meanwhile."""
        records = [record for batch in written for record in batch.records]
        terms = [t for batch in written for t in batch.terms]
        order = sorted(
            range(len(records)), key=lambda i: (records[i].document, records[i].paragraph, records[i].sentence)
        )
        articles = {key: value for batch in written for key, value in batch.articles.items()}
        added = Sentences([records[i] for i in order], [terms[i] for i in order], articles)
        updated = index.updated(removed, added)
        updated.revision = ""
        self._save(updated)
        self._checked = time.monotonic()
        return updated

    def _save(self, index: Index) -> None:
        """Save the index beside the store; on a full disk it is only not saved (the next start reads what it
        lacks from the store)."""
        try:
            index.save(self.index_path)
        except OSError as error:
            if plain_failure(error, self.settings) is None:
                raise
            log.warning("The keyword index was not saved in %s: the disk is full", self.index_path.parent)

    @property
    def index_path(self) -> Path:
        """Where the index is saved beside the store."""
        return self.settings.data_dir / f"keyword-{self.store.slug}" / "index.npz"

    @plain
    def ingest(
        self,
        path: Path | None = None,
        progress: Progress | None = None,
        prune: bool = True,
        announce: Callable[[list[str]], None] | None = None,
    ) -> IngestReport:
        """Bring the store in line with the articles in `path`, a folder or one file (default: the seeds folder).

        Unchanged articles cost nothing and changed ones are replaced (the new version is stored before the old
        one is deleted). Articles that came from this same folder and are gone from it are removed with `prune`
        (`announce` is told which, before), else listed in the report's `missing`; articles from anywhere else
        (another folder, an upload) are never removed. A folder with no readable article removes nothing.
        """
        started = time.perf_counter()
        target = Path(path or self.settings.seeds_dir)
        limits = {"max_bytes": self.settings.max_file_bytes, "document_bytes": self.settings.max_document_bytes}
        if target.is_file():
            articles, skipped = _read_file(target, **limits)
        else:
            articles, skipped = read_folder(target, **limits)
        whole = not target.is_file()  # a folder's articles are all its origin holds: those gone from it can go
        return self._store_articles(articles, skipped, self.origin(target), whole, prune, progress, announce, started)

    def _store_articles(
        self,
        articles: Sequence[Article],
        skipped: list[Skipped],
        origin: str,
        whole: bool,
        prune: bool,
        progress: Progress | None,
        announce: Callable[[list[str]], None] | None,
        started: float,
    ) -> IngestReport:
        """Store the new and changed `articles` of `origin` (and, when they are the `whole` of it, prune or list
        what is gone from it), and bring the index in line; the report's seconds count from `started`."""
        with self._lock:
            # The index as it stands before the writes, to which what is written is then added: reading
            # 255,000 new sentences back from Chroma would cost half a minute and a gigabyte.
            before = self._index if self._index is not None else self._open()[0]
            stored = self.store.manifest()
            self.store.tidy(stored)
            present = {article.id for article in articles}
            gone = sorted(d for d, e in stored.items() if e.origin == origin and d not in present) if whole else []
            # An empty or unreadable folder is more likely a wrong path than a wish to delete every article.
            doomed = gone if prune and articles else []
            if doomed and announce is not None:
                announce(doomed)
            report = IngestReport(skipped=skipped, missing=[d for d in gone if d not in doomed], origin=origin)
            embedded = 0
            written: list[Sentences] = []
            pending: list[Article] = []
            for done, article in enumerate(articles, start=1):
                previous = stored.get(article.id)
                if previous is not None and previous.digest == article.digest:
                    report.unchanged.append(article.id)
                else:
                    pending.append(article)
                    (report.added if previous is None else report.updated).append(article.id)
                # Articles are written a few at a time: Chroma's per-call cost is then small next to embedding.
                if pending and (
                    done == len(articles) or sum(a.sentence_count for a in pending) >= self.write_sentences
                ):
                    written.append(self.store.write(pending, batch_size=self.settings.embed_batch_size, origin=origin))
                    embedded += len(written[-1].records)
                    pending = []
                if progress and not pending:
                    progress(done, len(articles), article.id)
            if doomed:
                self.store.remove(doomed)
                report.removed.extend(doomed)
            if self.store.ledger is not None:
                self.store.ledger.done(origin)
            if report.added or report.updated or report.removed:
                self._index = self._with(before, report.removed, written)
            else:
                self._index = before
        return replace(report, sentences_embedded=embedded, seconds=time.perf_counter() - started)

    @plain
    def rebuild(self) -> list[Path]:
        """Forget every stored article, so the next ingest embeds all of them again; an embedded store too damaged
        to open is deleted and made anew. Returns the folders the articles came from (the uploads' folder among
        them), recorded outside the store, for the caller to ingest again."""
        with self._lock:
            try:
                store = self.store
            except DamagedStore:
                if self._client is not None:
                    raise
                store = self._new_store(open_client(self.settings, fresh=True))
                self._store = store
            held = (store.ledger.read() if store.ledger is not None else None) or Holding()
            try:
                stored = store.manifest()
            except Exception:  # noqa: BLE001 (a damaged store may fail any way; the record still names the folders)
                stored = {}
            origins = sorted({*held.origins, *held.pending, *(entry.origin for entry in stored.values())} - {""})
            # The record keeps naming what was there until the store is empty: a rebuild killed meanwhile is
            # reported as damage, and the next rebuild finds the same folders.
            store.remove(list(stored), record=False)
            store.clear()
            if store.ledger is not None:
                store.ledger.reset([], pending=origins)
            self._index = None
            self.index_path.unlink(missing_ok=True)
        return [self.uploads_dir if origin == UPLOAD else Path(origin) for origin in origins]

    @plain
    def upload(
        self, files: Sequence[tuple[Path, str]], replace: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Keep uploaded article files, each (source, name), in the uploads folder and ingest them together. A file
        may replace a stored article of the same id with other text only with `replace`: else it is skipped with
        the reason, or, when it is the only file, UploadRefused is raised; nothing of it is kept either way."""
        started = time.perf_counter()
        folder = self.uploads_dir
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            # Staged beside the kept files (same file system, so the move is atomic); hidden, so no ingest reads it.
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
            try:
                skipped: list[Skipped] = []
                for source, name in files:
                    staged = staging / name
                    if staged.exists():  # two files of one upload under one name: the first is kept
                        skipped.append(Skipped(Path(source), f"another file of this upload is also named {name}"))
                        continue
                    shutil.copyfile(source, staged)
                articles, unread = read_folder(
                    staging, max_bytes=self.settings.max_file_bytes, document_bytes=self.settings.max_document_bytes
                )
                skipped += unread
                stored = self.store.manifest()
                earlier: dict[str, list[Path]] = {}  # the kept files by article id, read once for all the files
                for kept in folder.iterdir():
                    if kept.is_file():
                        earlier.setdefault(article_id(kept), []).append(kept)
                accepted: list[Article] = []
                for article in articles:
                    previous = stored.get(article.id)
                    if previous is not None and previous.digest != article.digest and not replace:
                        refusal = (
                            f"An article named {article.id!r} is already in the library with other text; "
                            "replacing it needs a login (set RAG_UI_AUTH=user:password), or `rag ingest` of its folder"
                        )
                        if len(files) == 1:
                            raise UploadRefused(refusal)
                        skipped.append(Skipped(article.path, refusal))
                        continue
                    accepted.append(_keep_upload(article, folder, earlier.get(article.id, [])))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            if not accepted:
                return IngestReport(skipped=skipped, origin=UPLOAD, seconds=time.perf_counter() - started)
            return self._store_articles(accepted, skipped, UPLOAD, False, False, progress, None, started)

    @property
    def links_dir(self) -> Path:
        """Where the pages fetched from links are kept (with their addresses), so that they can be ingested again."""
        return self.settings.data_dir / "links"

    @plain
    def ingest_links(self, urls: Sequence[str], progress: Progress | None = None) -> IngestReport:
        """Fetch web pages, keep them in `links_dir` and ingest their articles next to those already there; a page
        unchanged since it was last ingested costs no embedding, and a link that cannot be read is skipped with the
        reason."""
        from rag.links import save_pages

        started = time.perf_counter()
        # The store (and with it the data directory's lock) first: a page is kept only when it can be ingested,
        # or a later `--rebuild` would ingest a link the user was told had failed.
        self.store  # noqa: B018
        saved, skipped = save_pages(urls, self.links_dir, self.settings)
        report = IngestReport(skipped=skipped, origin=self.origin(self.links_dir))
        for done, path in enumerate(saved, start=1):
            one = self.ingest(path, prune=False)
            report.added.extend(one.added)
            report.updated.extend(one.updated)
            report.unchanged.extend(one.unchanged)
            report.skipped.extend(one.skipped)
            report = replace(report, sentences_embedded=report.sentences_embedded + one.sentences_embedded)
            if progress is not None:
                progress(done, len(saved), path.stem)
        return replace(report, seconds=time.perf_counter() - started)

    def close(self) -> None:
        """Close the embedded store and let other processes open it; using the engine afterwards opens it again."""
        with self._lock:
            if self._store is not None and self._client is None:
                self._store.client.close()
                unlock(self.settings.data_dir)
            self._store = None

    def add(self, path: Path, progress: Progress | None = None) -> IngestReport:
        """Ingest one more article folder (or file) without removing anything."""
        return self.ingest(path, progress=progress, prune=False)

    @plain
    def remove(self, document: str) -> bool:
        """Delete one article from the store and the index (the page's "Remove"); False when there was none."""
        with self._lock:
            entry = self.store.manifest().get(document)
            if entry is None:
                return False
            before = self._index if self._index is not None else self._open()[0]
            self.store.remove(document)
            self._index = self._with(before, [document], [])
            if entry.origin == UPLOAD and self.uploads_dir.is_dir():
                # Its kept file goes too, or a rebuild would bring back what the reader removed.
                for kept in self.uploads_dir.iterdir():
                    if kept.is_file() and article_id(kept) == document:
                        kept.unlink()
        return True


def _keep_upload(article: Article, folder: Path, earlier: Sequence[Path]) -> Article:
    """Move a staged upload into the uploads folder, in place of the `earlier` uploads of the same article under
    another file name; the article, read from where it is now kept."""
    kept = folder / article.path.name
    for other in earlier:
        if other.name != kept.name:
            other.unlink(missing_ok=True)
    os.replace(article.path, kept)
    return replace(article, path=kept)


def _read_file(path: Path, max_bytes: int, document_bytes: int) -> tuple[list[Article], list[Skipped]]:
    """The article in one file, or why it was skipped."""
    if path.suffix.lower() not in SUFFIXES:
        return [], [Skipped(path, f"only {', '.join(SUFFIXES)} files are read")]
    try:
        return [read_article(path, max_bytes=max_bytes, document_bytes=document_bytes)], []
    except (ValueError, OSError) as error:
        return [], [Skipped(path, str(error))]
