"""The engine: answers questions from the library of articles — analyse → retrieve → answer → verify (`Engine.ask`)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer import Answer, Citation, LLMError, not_found
from rag.answerers.fact import FactAnswerer
from rag.answerers.figure import FigureAnswerer
from rag.answerers.summary import SummaryAnswerer, article_hits
from rag.citations import verify
from rag.corpus import Paragraph
from rag.embeddings import Embedder, build_embedder
from rag.figures import find_figures
from rag.library import IngestReport, Library, UploadRefused
from rag.query import Query, Turn, analyse
from rag.question import Question, clean, problem
from rag.retrieve import Hit, Index, Retriever
from rag.settings import Settings
from rag.store import Progress, Store, plain
from rag.text import keep_dictionary_in, root, tokenize
from rag.translate import Translator

if TYPE_CHECKING:
    from openai import OpenAI

    from rag.llm import Chat, LLMAnswerer

__all__ = ["Engine", "IngestReport", "UploadRefused"]

# Questions about nothing in particular, one per language, that go through every stage of answering.
WARM_UP = ("How many people did the city employ in 2020?", "2020年该市有多少家企业？")


class Engine:
    """Holds the collaborators (embedder, library of articles, chat client, translator); thread-safe for questions."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        client: Any = None,
        llm_client: OpenAI | None = None,
        notice: Callable[[str], None] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or build_embedder(settings)
        # `notice` and `progress` tell the user of a first start's seed ingest (`first_start`).
        self.library = Library(settings, self.embedder, client, notice=notice, progress=progress)
        self._llm_client = llm_client  # the chat client of the "openai" backend; built from settings on first use
        self._lock = threading.Lock()
        self.translator = Translator(cache_dir=settings.data_dir / "cache")
        keep_dictionary_in(settings.data_dir / "cache")

    @property
    def store(self) -> Store:
        """The Chroma store, opened on first use."""
        return self.library.store

    @property
    def index(self) -> Index:
        """The index of the stored sentences, loaded on first use and kept in line with the store."""
        return self.library.index

    def first_start(self) -> IngestReport | None:
        """Ingest the seed articles into a data directory that never held anything, saying so (see `Library`)."""
        return self.library.first_start()

    def ingest(
        self,
        path: Path | None = None,
        progress: Progress | None = None,
        prune: bool = True,
        announce: Callable[[list[str]], None] | None = None,
    ) -> IngestReport:
        """Bring the store in line with the articles in `path`, a folder or one file (default: the seeds folder)."""
        return self.library.ingest(path, progress=progress, prune=prune, announce=announce)

    def add(self, path: Path, progress: Progress | None = None) -> IngestReport:
        """Ingest one more article folder (or file) without removing anything."""
        return self.library.ingest(path, progress=progress, prune=False)

    def upload(self, source: Path, name: str, replace: bool = False, progress: Progress | None = None) -> IngestReport:
        """Keep an uploaded article file as `name` and ingest it (see `Library.upload`)."""
        return self.library.upload([(source, name)], replace=replace, progress=progress)

    def upload_files(
        self, files: Sequence[tuple[Path, str]], replace: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Keep uploaded article files, each (source, name), and ingest them together (see `Library.upload`)."""
        return self.library.upload(files, replace=replace, progress=progress)

    def ingest_links(self, urls: Sequence[str], progress: Progress | None = None) -> IngestReport:
        """Fetch web pages and ingest their articles (see `Library.ingest_links`)."""
        return self.library.ingest_links(urls, progress=progress)

    def rebuild(self) -> list[Path]:
        """Forget every stored article; returns the folders to ingest again (see `Library.rebuild`)."""
        return self.library.rebuild()

    def remove(self, document: str) -> bool:
        """Delete one article from the store and the index; False when there was none."""
        return self.library.remove(document)

    def paragraphs(self, document: str) -> list[Paragraph]:
        """The stored paragraphs of one article in reading order, numbered as citations number them."""
        return self.library.index.article(document)

    def close(self) -> None:
        """Close the embedded store and let other processes open it; using the engine afterwards opens it again."""
        self.library.close()

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
        """The question as understood offline (language, figure wanted, translations) and the sentences retrieved."""
        index = self.index
        query = analyse(question, [], self.translator, index.vocabularies)
        return query.question, self._retriever(index).run(query)

    @plain  # a full disk or a Chroma server gone is said plainly, with where
    def ask(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        top_k: int | None = None,
        llm: str | None = None,
        on_text: Callable[[str], None] | None = None,
        document: str | None = None,
    ) -> Answer:
        """Answer a question (a follow-up to the (question, answer) turns of `history`) from the articles, citing at most
        `top_k` paragraphs, with backend `llm` ("offline", "openai"); `on_text` is told the text as it is written;
        `document` is the article a summary question is of, when the reader chose it."""
        started = time.perf_counter()
        told = _Told(on_text)
        refusal = _refusal(question, self.settings.max_question_chars)
        if refusal is not None:  # a question that cannot be asked as it is: why, in plain words
            told.rest(refusal.text)
            return replace(refusal, seconds=time.perf_counter() - started)
        index = self.index
        try:
            chat = self._chat(llm or self.settings.llm)  # the chat model for this question; None offline
            query = analyse(question, history or [], self.translator, index.vocabularies, chat)
            query = replace(query, document=document or "")
            hits = self._retriever(index).run(query)
            if query.question.asks == "summary":  # a summary is of one whole article: its sentences are the hits
                hits = article_hits(query, hits, index)
            answer = self._answerer(index, top_k, chat, told, query.question).run(query, hits)
        except LLMError as error:  # the model failed: the reader gets the offline answer, and why
            answer = self.ask(question, history, top_k, "offline", None if told.any else on_text, document)
            return replace(answer, warnings=[*answer.warnings, str(error)], seconds=time.perf_counter() - started)
        answer = verify(self._completed(answer, query, hits, index), hits)  # every source shown was retrieved
        answer = self._sourced(answer)  # where each cited article came from: file or link, page, date
        told.rest(answer.text)
        return replace(answer, question=question, seconds=time.perf_counter() - started)

    def stream(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        top_k: int | None = None,
        llm: str | None = None,
        document: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the answer's text as it is written, then the verified Answer, whose text is the one to keep."""
        pieces: queue.SimpleQueue[str | Answer | BaseException] = queue.SimpleQueue()
        gone = threading.Event()  # the reader stopped reading: the model need not write on

        def tell(text: str) -> None:
            if gone.is_set():
                raise _Abandoned
            pieces.put(text)

        def answer() -> None:
            try:
                pieces.put(self.ask(question, history, top_k, llm, on_text=tell, document=document))
            except BaseException as error:  # noqa: BLE001 (raised again in the reader's thread)
                pieces.put(error)

        threading.Thread(target=answer, name="rag-answer", daemon=True).start()
        try:
            while not isinstance(item := pieces.get(), Answer):
                if isinstance(item, BaseException):
                    raise item
                yield item
            yield item
        finally:
            gone.set()

    def _retriever(self, index: Index) -> Retriever:
        return Retriever(self.store, self.embedder, index, self.settings.candidates, self.settings.rrf_k)

    def _chat(self, backend: str) -> Chat | None:
        """One question's chat model with the "openai" backend, None offline; LLMError when it is not configured."""
        if backend != "openai":
            return None
        from rag.llm import NOT_CONFIGURED, Chat, build_client

        if self._llm_client is None:
            with self._lock:
                if self._llm_client is None:
                    self._llm_client = build_client(self.settings)
        if self._llm_client is None:
            raise LLMError(NOT_CONFIGURED)
        return Chat(self.settings, self._llm_client)

    def _answerer(
        self, index: Index, top_k: int | None, chat: Chat | None, on_text: Callable[[str], None], question: Question
    ) -> FigureAnswerer | FactAnswerer | SummaryAnswerer | LLMAnswerer:
        """The LLM answerer when there is a chat model, else the offline one for the kind of answer asked (figure or
        fact); for a summary, the summary answerer (which has the LLM write it when there is one)."""
        top_k = top_k or self.settings.top_k
        writer = None
        if chat is not None:
            from rag.llm import LLMAnswerer

            writer = LLMAnswerer(self.settings, index, chat, on_text, max_sources=2 * top_k)
        if question.asks == "summary":
            return SummaryAnswerer(index, self.store, top_k=top_k, writer=writer)
        if writer is not None:
            return writer
        # A question that names no kind of figure ("What is X?", wants "any") is a fact question: on the dev split's
        # CI subset the fact answerer alone got 89 of its 125 such questions right, the figure answerer first
        # (then the fact one when it refuses) 84, the figure answerer alone 50.
        return FactAnswerer(index, top_k=top_k) if question.asks == "fact" else FigureAnswerer(index, top_k=top_k)

    def _completed(self, answer: Answer, query: Query, hits: list[Hit], index: Index) -> Answer:
        """The answer with what the query adds (how a follow-up was read, and its note) and, when the articles do
        not say, the passages that come closest to the question."""
        if query.read_as:
            answer = replace(answer, read_as=query.read_as)
        if answer.found and answer.kind == "none":  # the LLM answerer answers every kind the question may ask
            answer = replace(answer, kind=query.question.asks)
        if query.note:
            answer = replace(answer, warnings=[*answer.warnings, query.note])
        if not answer.found and not answer.nearest:  # the LLM said the articles do not say
            answer = replace(answer, nearest=FigureAnswerer(index).nearest(query.question, hits))
        return answer

    def _sourced(self, answer: Answer) -> Answer:
        """The answer with each citation saying where its article came from (file or link, page, date)."""
        cited = [*answer.citations, *answer.nearest]
        if not cited:
            return answer
        origins = self.store.origins(c.document for c in cited)

        def sourced(citation: Citation) -> Citation:
            origin = origins.get(citation.document)
            if origin is None:
                return citation
            page, page_paragraph = origin.page_of(citation.paragraph)
            return replace(
                citation, source=origin.source, page=page, page_paragraph=page_paragraph, published=origin.published
            )

        return replace(
            answer, citations=[sourced(c) for c in answer.citations], nearest=[sourced(c) for c in answer.nearest]
        )


class _Told:
    """Passes each piece of an answer's text on as it is written, and remembers whether any was."""

    def __init__(self, on_text: Callable[[str], None] | None) -> None:
        self.on_text = on_text
        self.any = False

    def __call__(self, text: str) -> None:
        self.any = True
        if self.on_text is not None:
            self.on_text(text)

    def rest(self, text: str) -> None:
        """Tell the whole text of an answer of which nothing was told as it was written."""
        if not self.any:
            self(text)


class _Abandoned(Exception):
    """The reader of a streamed answer stopped reading."""


def _refusal(question: object, max_chars: int) -> Answer | None:
    """The answer to a question that cannot be asked as it is, saying why in plain words; None when it can."""
    if not isinstance(question, str):  # JSON from the page's API: null, a number, a list or a mapping
        kinds = {bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "an object"}
        kind = "nothing" if question is None else kinds.get(type(question), type(question).__name__)
        return not_found("", "en", note=f"The question must be text, not {kind}.")
    issue = problem(clean(question), max_chars)
    return None if issue is None else not_found(question, "en", note=issue)
