"""The engine: ingest articles into the store, and answer questions — retrieve → answer → verify citations."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer import Answer, not_found
from rag.corpus import Article, Skipped, read_folder
from rag.embeddings import Embedder, build_embedder, model_slug
from rag.extractive import ExtractiveAnswerer
from rag.figures import find_figures
from rag.keyword import keep_dictionary_in, root, tokenize
from rag.question import Question, analyse, clean, cross_lingual, problem, translated_query
from rag.retrieve import Hit, Index, Retriever
from rag.settings import Settings
from rag.store import DamagedStore, Progress, Sentences, Store, open_client, unlock
from rag.translate import Translator

if TYPE_CHECKING:
    from openai import OpenAI

    from rag.llm import LLMAnswerer, Turn


# Questions about nothing in particular, one per language, that go through every stage of answering.
WARM_UP = ("How many people did the city employ in 2020?", "2020年该市有多少家企业？")


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

    refresh_seconds = 1.0  # how long the index may go unchecked against a store other instances write to
    write_sentences = 512  # ingest writes articles in groups of about this many sentences

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        client: Any = None,
        llm_client: OpenAI | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or build_embedder(settings)
        self._client = client
        self._llm_client = llm_client  # the chat client of the "openai" backend; built from settings on first use
        self._store: Store | None = None
        self._index: Index | None = None
        self._checked = 0.0
        self._lock = threading.RLock()
        self.translator = Translator(cache_dir=settings.data_dir / "cache")
        keep_dictionary_in(settings.data_dir / "cache")

    @property
    def store(self) -> Store:
        """The Chroma store, opened on first use."""
        if self._store is not None:
            return self._store  # without the lock, which an ingest holds while it runs
        with self._lock:
            if self._store is None:
                client = self._client if self._client is not None else open_client(self.settings)
                self._store = Store(client, self.embedder, model_slug(self.embedder))
            return self._store

    @property
    def index(self) -> Index:
        """The index of the stored sentences, loaded on first use (seeds are ingested into an empty store), and
        brought up to date when another instance sharing the store has changed it (checked every `refresh_seconds`)."""
        current = self._index
        if current is not None and time.monotonic() - self._checked < self.refresh_seconds:
            return current
        if current is not None and not self._lock.acquire(blocking=False):
            return current  # an ingest is under way: questions meanwhile get the index as it was, without waiting
        if current is not None:
            self._lock.release()
        with self._lock:
            if self._index is None:
                self._index = self._load()
                if not len(self._index) and not self.store.count():
                    self.ingest(self.settings.seeds_dir)
            elif time.monotonic() - self._checked >= self.refresh_seconds:
                self._checked = time.monotonic()
                if self.store.revision() != self._index.revision:
                    self._index = self._load()
            return self._index

    def _load(self) -> Index:
        """The index in line with the store: the saved one when the store has not changed since (same revision),
        else with the articles added, changed or removed since then read from the store (with their stored
        terms, so without jieba), and saved again."""
        # The revision is read first, so a change made while loading is seen at the next check.
        revision = self.store.revision()
        self._checked = time.monotonic()
        index = self._index if self._index is not None else Index.load(self._index_path) or Index()
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
            index.save(self._index_path)
        return index

    def _with(self, index: Index, removed: Sequence[str], written: Sequence[Sentences]) -> Index:
        """`index` with the articles `removed` taken out and those `written` put in (replacing earlier versions),
        saved. Its revision is left unknown, so the next check compares manifests once: another instance may
        have written meanwhile."""
        records = [record for batch in written for record in batch.records]
        terms = [t for batch in written for t in batch.terms]
        order = sorted(range(len(records)), key=lambda i: (records[i].document, records[i].paragraph, records[i].sentence))
        articles = {key: value for batch in written for key, value in batch.articles.items()}
        added = Sentences([records[i] for i in order], [terms[i] for i in order], articles)
        updated = index.updated(removed, added)
        updated.revision = ""
        updated.save(self._index_path)
        self._checked = time.monotonic()
        return updated

    @property
    def _index_path(self) -> Path:
        return self.settings.data_dir / f"keyword-{self.store.slug}" / "index.npz"

    def ingest(self, path: Path | None = None, progress: Progress | None = None, prune: bool = True) -> IngestReport:
        """Bring the store in line with the articles in `path` (default: the seeds folder).

        Unchanged articles cost nothing, changed ones are replaced, and with `prune` the articles no longer
        in the folder are removed (unless the folder has no readable article at all).
        """
        started = time.perf_counter()
        folder = Path(path or self.settings.seeds_dir)
        articles, skipped = read_folder(folder, max_bytes=self.settings.max_file_bytes)
        with self._lock:
            # The index as it stands before the writes, to which what is written is then added: reading
            # 255,000 new sentences back from Chroma would cost half a minute and a gigabyte.
            before = self._index if self._index is not None else self._load()
            stored = self.store.manifest()
            report = IngestReport(skipped=skipped)
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
                if pending and (done == len(articles) or sum(map(_sentences, pending)) >= self.write_sentences):
                    written.append(self.store.write(pending, batch_size=self.settings.embed_batch_size))
                    embedded += len(written[-1].records)
                    pending = []
                if progress and not pending:
                    progress(done, len(articles), article.id)
            # An empty or unreadable folder is more likely a wrong path than a wish to delete every article.
            if prune and articles:
                current = {article.id for article in articles}
                for document in sorted(set(stored) - current):
                    self.store.remove(document)
                    report.removed.append(document)
            if report.added or report.updated or report.removed:
                self._index = self._with(before, report.removed, written)
            else:
                self._index = before
        return replace(report, sentences_embedded=embedded, seconds=time.perf_counter() - started)

    def rebuild(self) -> None:
        """Forget every stored article, so the next ingest embeds all of them again; an embedded store too damaged
        to open is deleted and made anew."""
        with self._lock:
            try:
                store = self.store
            except DamagedStore:
                if self._client is not None:
                    raise
                store = Store(open_client(self.settings, fresh=True), self.embedder, model_slug(self.embedder))
                self._store = store
            for document in store.manifest():
                store.remove(document)
            store.clear()
            self._index = None
            self._index_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the embedded store and let other processes open it; using the engine afterwards opens it again."""
        with self._lock:
            if self._store is not None and self._client is None:
                self._store.client.close()
                unlock(self.settings.data_dir)
            self._store = None

    def add(self, path: Path, progress: Progress | None = None) -> IngestReport:
        """Ingest one more article folder without removing what is already there (the UI's upload)."""
        return self.ingest(path, progress=progress, prune=False)

    def warm_up(self) -> None:
        """Load now what a first question would load (the index, Chroma's vector index of each language, the e5
        model, jieba's dictionary, cn2an, CC-CEDICT and its index of the stored words), so that it is answered
        as fast as the next ones: by asking one question in each language."""
        # What only some questions reach: jieba (Chinese text), the Snowball stemmer, cn2an (Chinese numerals).
        tokenize("中文")
        root("warming")
        find_figures("三千")
        for question in WARM_UP:
            self.ask(question)

    def search(self, question: str) -> tuple[Question, list[Hit]]:
        """The question as understood (language, figure wanted, translations) and the sentences retrieved for it."""
        index = self.index
        parsed = cross_lingual(analyse(clean(question)), self.translator, index.vocabularies)
        retriever = Retriever(self.store, self.embedder, index, self.settings.candidates, self.settings.rrf_k)
        return parsed, retriever.search(parsed.text, parsed.terms, translated_query(parsed), parsed.lang)

    def ask(
        self, question: str, history: Sequence[Turn] | None = None, top_k: int | None = None, llm: str | None = None
    ) -> Answer:
        """Answer a question from the articles, citing at most `top_k` paragraphs (default: settings.top_k);
        never raises for a bad question.

        `history` holds the conversation's earlier (question, answer) turns: with the LLM backend a follow-up
        is rewritten into a standalone question before retrieval (the offline backend answers it as it is).
        `llm` picks the backend for this question ("offline" or "openai"; default: settings.llm).
        """
        for item in self.stream(question, history, top_k=top_k, llm=llm):
            if isinstance(item, Answer):
                return item
        raise AssertionError("Engine.stream ends with an Answer")

    def stream(
        self, question: str, history: Sequence[Turn] | None = None, top_k: int | None = None, llm: str | None = None
    ) -> Iterator[str | Answer]:
        """Yield the answer's text as it is written, then the verified Answer, whose text is the one to keep."""
        started = time.perf_counter()
        issue = problem(clean(question), self.settings.max_question_chars)
        if issue:
            answer = not_found(question, "en", note=issue)
            yield answer.text
        else:
            offline = ExtractiveAnswerer(self.index, top_k=top_k or self.settings.top_k)
            searched: list[tuple[Question, list[Hit]]] = []

            def search(text: str) -> tuple[Question, list[Hit]]:
                searched.append(self.search(text))
                return searched[-1]

            if (llm or self.settings.llm) == "openai":
                answerer = self._llm_answerer(offline)
                answer = yield from answerer.stream(clean(question), history or [], search)
            else:
                answer = offline.answer(*search(question))
                yield answer.text
            if not answer.found and not answer.nearest and searched:  # the LLM said the articles do not say
                answer = replace(answer, nearest=offline.nearest(*searched[0]))  # of the question as asked
        yield replace(answer, question=question, seconds=time.perf_counter() - started)

    def _llm_answerer(self, offline: ExtractiveAnswerer) -> LLMAnswerer:
        from rag.llm import LLMAnswerer, build_client

        if self._llm_client is None:
            with self._lock:
                if self._llm_client is None:
                    self._llm_client = build_client(self.settings)
        return LLMAnswerer(self.settings, self.index, self._llm_client, fallback=offline, max_sources=2 * offline.top_k)


def _sentences(article: Article) -> int:
    return sum(len(paragraph.sentences) for paragraph in article.paragraphs)
