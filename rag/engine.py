"""The engine: ingest articles into the store, and answer questions — retrieve → answer → verify citations."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index.core.embeddings import BaseEmbedding

from rag.answer import Answer, not_found
from rag.corpus import Skipped, read_folder
from rag.embeddings import build_embedder, model_slug
from rag.extractive import ExtractiveAnswerer
from rag.question import analyse, clean, problem
from rag.retrieve import Index, Retriever
from rag.settings import Settings
from rag.store import Progress, Store, open_client

if TYPE_CHECKING:
    from openai import OpenAI

    from rag.llm import LLMAnswerer, Turn


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

    def __init__(
        self, settings: Settings, embedder: BaseEmbedding | None = None, client: Any = None, llm: OpenAI | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder or build_embedder(settings)
        self._client = client
        self._llm = llm  # the chat client when settings.llm is "openai"; built from the settings on first use
        self._store: Store | None = None
        self._index: Index | None = None
        self._lock = threading.RLock()

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

    def add(self, path: Path) -> IngestReport:
        """Ingest one more article folder without removing what is already there (the UI's upload)."""
        return self.ingest(path, prune=False)

    def ask(self, question: str, history: Sequence[Turn] | None = None) -> Answer:
        """Answer a question from the articles, with citations; never raises for a bad question.

        `history` holds the conversation's earlier (question, answer) turns: with the LLM backend a follow-up
        is rewritten into a standalone question before retrieval (the offline backend answers it as it is).
        """
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                return item
        raise AssertionError("Engine.stream ends with an Answer")

    def stream(self, question: str, history: Sequence[Turn] | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it is written, then the verified Answer, whose text is the one to keep."""
        started = time.perf_counter()
        text = clean(question)
        issue = problem(text, self.settings.max_question_chars)
        if issue:
            answer = not_found(question, "en", note=issue)
            yield answer.text
        else:
            index = self.index
            retriever = Retriever(self.store, self.embedder, index, self.settings.candidates, self.settings.rrf_k)
            offline = ExtractiveAnswerer(index, top_k=self.settings.top_k)
            if self.settings.llm == "openai":
                answer = yield from self._llm_answerer(index, offline).stream(text, history or [], retriever)
            else:
                parsed = analyse(text)
                answer = offline.answer(parsed, retriever.search(parsed.text, parsed.terms))
                yield answer.text
        yield replace(answer, question=question, seconds=time.perf_counter() - started)

    def _llm_answerer(self, index: Index, offline: ExtractiveAnswerer) -> LLMAnswerer:
        from rag.llm import LLMAnswerer, build_client

        with self._lock:
            if self._llm is None:
                self._llm = build_client(self.settings)
        return LLMAnswerer(self.settings, index, self._llm, fallback=offline)
