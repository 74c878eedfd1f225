"""The engine: ingest articles into the store, and answer questions — retrieve → answer → verify citations."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llama_index.core.embeddings import BaseEmbedding

from rag.answer import Answer, not_found
from rag.corpus import Skipped, read_folder
from rag.embeddings import build_embedder, model_slug
from rag.extractive import ExtractiveAnswerer
from rag.question import Question, analyse, clean, cross_lingual, problem, translated_query
from rag.retrieve import Hit, Index, Retriever
from rag.settings import Settings
from rag.store import Progress, Store, open_client
from rag.translate import Translator


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


class Engine:
    """Holds the collaborators (embedder, Chroma client) and the in-memory index; thread-safe for questions."""

    def __init__(self, settings: Settings, embedder: BaseEmbedding | None = None, client: Any = None) -> None:
        self.settings = settings
        self.embedder = embedder or build_embedder(settings)
        self._client = client
        self._store: Store | None = None
        self._index: Index | None = None
        self._lock = threading.RLock()
        self.translator = Translator(cache_dir=settings.data_dir / "cache")

    @property
    def store(self) -> Store:
        """The Chroma store, opened on first use."""
        with self._lock:
            if self._store is None:
                client = self._client if self._client is not None else open_client(self.settings)
                self._store = Store(client, self.embedder, model_slug(self.embedder))
            return self._store

    @property
    def index(self) -> Index:
        """The in-memory index, loaded from the store on first use; seeds are ingested into an empty store."""
        with self._lock:
            if self._index is None:
                if not self.store.manifest():
                    self.ingest(self.settings.seeds_dir)
                self._index = self._load()
            return self._index

    def _load(self) -> Index:
        return Index(self.store.records(self.store.manifest()))

    def ingest(self, path: Path | None = None, progress: Progress | None = None, prune: bool = True) -> IngestReport:
        """Bring the store in line with the articles in `path` (default: the seeds folder).

        Unchanged articles cost nothing, changed ones are replaced, and with `prune` the articles no longer
        in the folder are removed.
        """
        started = time.perf_counter()
        folder = Path(path or self.settings.seeds_dir)
        articles, skipped = read_folder(folder, max_bytes=self.settings.max_file_bytes)
        with self._lock:
            stored = self.store.manifest()
            report = IngestReport(skipped=skipped)
            embedded = 0
            for done, article in enumerate(articles, start=1):
                previous = stored.get(article.id)
                if previous is not None and previous.digest == article.digest:
                    report.unchanged.append(article.id)
                else:
                    embedded += self.store.write(article, batch_size=self.settings.embed_batch_size)
                    (report.added if previous is None else report.updated).append(article.id)
                if progress:
                    progress(done, len(articles), article.id)
            if prune:
                current = {article.id for article in articles}
                for document in sorted(set(stored) - current):
                    self.store.remove(document)
                    report.removed.append(document)
            if report.added or report.updated or report.removed or self._index is None:
                self._index = self._load()
        return replace(report, sentences_embedded=embedded, seconds=time.perf_counter() - started)

    def rebuild(self) -> None:
        """Forget every stored article, so the next ingest embeds all of them again."""
        with self._lock:
            for document in self.store.manifest():
                self.store.remove(document)
            self.store.clear()
            self._index = None

    def add(self, path: Path, progress: Progress | None = None) -> IngestReport:
        """Ingest one more article folder without removing what is already there (the UI's upload)."""
        return self.ingest(path, progress=progress, prune=False)

    def search(self, question: str) -> tuple[Question, list[Hit]]:
        """The question as understood (language, figure wanted, translations) and the sentences retrieved for it."""
        index = self.index
        parsed = cross_lingual(analyse(clean(question)), self.translator, index.vocabularies)
        retriever = Retriever(self.store, self.embedder, index, self.settings.candidates, self.settings.rrf_k)
        return parsed, retriever.search(parsed.text, parsed.terms, translated_query(parsed))

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        """Answer a question from the articles, citing at most `top_k` paragraphs (default: settings.top_k);
        never raises for a bad question."""
        started = time.perf_counter()
        issue = problem(clean(question), self.settings.max_question_chars)
        if issue:
            return not_found(question, "en", note=issue)
        parsed, hits = self.search(question)
        answer = ExtractiveAnswerer(self.index, top_k=top_k or self.settings.top_k).answer(parsed, hits)
        return replace(answer, question=question, seconds=time.perf_counter() - started)
