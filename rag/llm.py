"""The chat model: one question's calls to an OpenAI-compatible server (`Chat`), and the answerer it drives.

The answerer writes the answer from numbered source paragraphs, and what it writes is checked as it streams: a
[n] the model was not given is removed, citations are renumbered in order of first use, and every figure must be
stated in a paragraph its sentence cites. When the model cannot be reached (after the retries), runs out of time
or its stream breaks off, LLMError says why; the engine then gives the reader the offline answer.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
from openai import APIConnectionError, APIStatusError, APITimeoutError, OpenAI, OpenAIError
from openai.types.chat import ChatCompletionMessageParam

from rag.answer import NOT_FOUND, Answer, Citation, LLMError, not_found
from rag.citations import MARKER, cite, cited_numbers, marker, strip_markers
from rag.corpus import split_sentences
from rag.figures import Figure, find_figures, states_figure
from rag.followup import Turn
from rag.prompts import render
from rag.query import Query
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.settings import Settings
from rag.store import Record
from rag.text import CJK

log = logging.getLogger(__name__)

UNREACHABLE = "The language model could not be reached; this is the offline answer."
NOT_CONFIGURED = "The language model is not configured (OPENAI_API_KEY is not set); this is the offline answer."
CUT_OFF = "The language model's answer broke off; this is the offline answer."
LEAKED = "The language model's reply repeated its instructions; this is the offline answer."
EMPTY = "The language model's reply was empty."
EMPTY_NOTICE = "The language model's reply was empty; this is the offline answer."
TIMED_OUT = "The language model did not answer within {seconds:g} s (RAG_LLM_TIMEOUT); this is the offline answer."
REDACTED = "[redacted]"
HISTORY_TURNS = 4  # earlier turns shown to the model when it rewrites a follow-up
SOURCE_OVERHEAD = 24  # tokens of a source's fence lines and heading, beside its title and text

# What a failed call can raise: the client's own errors, transport errors surfacing while a stream is read,
# and malformed JSON in a chunk.
_FAILURES = (OpenAIError, httpx.HTTPError, ValueError)
# Models write several citations as [1, 2] or, in Chinese, 【1】; the verifier reads only [n].
_MARKER_LIST = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")
_UNSETTLED = re.compile(r"\s*(?:[\[【][\d\s,，、]*)?$")


@dataclass(frozen=True)
class Source:
    """A paragraph given to the model as source [number], with the retrieved sentences that brought it in, and
    the part of its text the model is shown (all of it, unless the context budget cut it around those sentences)."""

    number: int
    hits: tuple[Hit, ...]
    text: str = ""


def tokens(text: str) -> int:
    """The tokens `text` takes in a prompt, estimated without the model's tokenizer: a Chinese character is about
    one, and about four other characters make one."""
    cjk = len(CJK.findall(text))
    return cjk + -(-(len(text) - cjk) // 4)


def unforgeable(text: str) -> str:
    """Article text that cannot open or close a source's fence: `<source` and `</source` lose their angle bracket."""
    return _FENCE_LIKE.sub(lambda m: "‹" + m.group()[1:], text)


_FENCE_LIKE = re.compile(r"</?\s*source", re.IGNORECASE)


def build_client(settings: Settings) -> OpenAI | None:
    """A chat client for the settings' server; its key comes from OPENAI_API_KEY (None when that is not set)."""
    try:
        return OpenAI(base_url=settings.openai_base_url, timeout=settings.llm_timeout, max_retries=settings.llm_retries)
    except OpenAIError:
        return None


class Chat:
    """One question's calls to the chat model: they share one deadline of `llm_timeout` seconds (rewriting,
    translating, writing, their retries and waits), and what comes back is redacted of the key and the canary."""

    def __init__(self, settings: Settings, client: OpenAI) -> None:
        self.settings = settings
        self.client = client
        # A fresh random line in the system prompt: if it shows up in a reply, the model is leaking its prompt.
        self.canary = f"rag-canary-{secrets.token_hex(8)}"
        self.secrets = [s for s in (self.canary, client.api_key) if len(s) >= 8]
        self._spent = 0.0  # seconds this question has spent in calls to the model so far
        self._since: float | None = None  # when the call under way began

    def condense(self, text: str, history: Sequence[Turn], draft: str = "") -> str:
        """The follow-up `text` rewritten by the model as a standalone question, given the offline reading `draft`."""
        turns = "\n\n".join(
            render("turn", question=question, answer=strip_markers(answer))
            for question, answer in history[-HISTORY_TURNS:]
        )
        return self.complete(render("condense", history=turns, question=text, draft=draft or text)) or text

    def translate(self, text: str, language: str) -> str:
        """The question `text` translated by the model into `language` ("Chinese")."""
        return self.complete(render("translate", language=language, question=text))

    def complete(self, prompt: str) -> str:
        """The model's one-line reply to a single user message (no streaming); raises LLMError when it fails."""
        try:
            with self.clock():
                response = self.request(
                    model=self.settings.llm_model,
                    messages=[{"role": "user", "content": prompt}],
                    temperature=0.0,
                    max_tokens=min(self.settings.max_tokens, 256),
                )
        except _FAILURES as error:
            raise LLMError(self.failure(error)) from None
        content = response.choices[0].message.content if response.choices else None
        line = next((line for line in (content or "").splitlines() if line.strip()), "")
        return self.redact(line).strip().strip("\"'“”「」")[: self.settings.max_question_chars]

    def request(self, **arguments: Any) -> Any:
        """One chat request within the question's deadline: each try may take what is left of it, and a timeout,
        a 429 or a 5xx is tried again (up to `llm_retries` times) after the server's Retry-After or a back-off,
        unless that wait would end past the deadline. Raises the last failure, or LLMError once time is up."""
        for attempt in range(self.settings.llm_retries + 1):
            left = self.left()
            if left <= 0:
                raise LLMError(self.timed_out())
            try:
                return self.client.with_options(timeout=left, max_retries=0).chat.completions.create(**arguments)
            except _FAILURES as error:
                if attempt == self.settings.llm_retries or not _retryable(error):
                    raise
                wait = _retry_after(error)
                wait = min(8.0, 0.5 * 2**attempt) if wait is None else wait
                if wait >= self.left():
                    log.warning("LLM retry not waited for: %.1f s asked, past the question's deadline", wait)
                    raise
                time.sleep(wait)
        raise AssertionError("the loop returns or raises")

    def left(self) -> float:
        """Seconds left of this question's time with the model (the searches between calls are not its time)."""
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self.settings.llm_timeout - self._spent - running

    @contextmanager
    def clock(self) -> Iterator[None]:
        """Count the time of the block as the model's."""
        self._since = time.monotonic()
        try:
            yield
        finally:
            self._spent += time.monotonic() - self._since
            self._since = None

    def failure(self, error: Exception) -> str:
        """The reader's notice for a call that failed before the model wrote anything."""
        timed_out = isinstance(error, (APITimeoutError, httpx.TimeoutException, httpx.StreamError))
        if timed_out and self.left() < 0.1:  # each try may take all the time left, so its timeout ends it
            log.warning("LLM request given up at the question's time limit: %s", type(error).__name__)
            return self.timed_out()
        return _notice(error)

    def timed_out(self) -> str:
        """The reader's notice for a question whose time with the model ran out."""
        return TIMED_OUT.format(seconds=self.settings.llm_timeout)

    def redact(self, text: str) -> str:
        """`text` with the API key and the prompt canary blanked out."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def secret_start(self, text: str) -> int:
        """Length of the end of `text` that could be the beginning of a secret (held back while streaming)."""
        return max(
            (k for s in self.secrets for k in range(min(len(s) - 1, len(text)), 0, -1) if text.endswith(s[:k])),
            default=0,
        )


class LLMAnswerer:
    """Answers with a chat model from numbered sources, then verifies what it wrote against those sources."""

    name = "openai"

    def __init__(
        self,
        settings: Settings,
        index: Index,
        chat: Chat,
        on_text: Callable[[str], None] | None = None,
        max_sources: int = 6,
    ) -> None:
        self.settings = settings
        self.index = index
        self.chat = chat
        self.on_text = on_text or (lambda text: None)  # told each piece of the answer as it is written
        self.max_sources = max_sources

    def run(self, query: Query, hits: Sequence[Hit]) -> Answer:
        """The model's answer to the query from the best `hits`, verified; its text is passed to `on_text` as it is
        written. Raises LLMError when the model fails (the engine then answers offline)."""
        question = query.question
        # A summary is of one whole article (the engine hands over its sentences): every paragraph that fits.
        sources = self.sources(hits, whole=question.asks == "summary")
        if not sources:
            return not_found(question.text, question.lang, backend=self.name)
        written, finish = self._write(question, sources)
        answer = self.verify(question, written, sources)
        if answer.warnings == [EMPTY]:
            raise LLMError(EMPTY_NOTICE)
        if finish == "length":
            answer = replace(answer, warnings=[*answer.warnings, "The answer reached the length limit; it may be cut."])
        return answer

    def _write(self, question: Question, sources: Sequence[Source]) -> tuple[str, str]:
        """Stream the model's answer, telling `on_text` only what verification will not change; returns (text,
        finish reason)."""
        chat = self.chat
        written, shown, finish = "", 0, None
        try:
            with (
                chat.clock(),
                chat.request(
                    model=self.settings.llm_model,
                    messages=self.messages(question, sources),
                    temperature=self.settings.temperature,
                    max_tokens=self.settings.max_tokens,
                    stream=True,
                ) as chunks,
            ):
                # A model that drips its answer never trips a read timeout: the stream is closed at the deadline.
                watchdog = threading.Timer(max(0.0, chat.left()), chunks.response.close)
                watchdog.daemon = True
                watchdog.start()
                try:
                    for chunk in chunks:
                        if not chunk.choices:
                            continue
                        written += chunk.choices[0].delta.content or ""
                        finish = chunk.choices[0].finish_reason or finish
                        if chat.canary in written:
                            log.warning("LLM reply contained the system prompt's canary")
                            raise LLMError(LEAKED)
                        # The tidied text, less a marker or a secret that may still be arriving.
                        visible = tidy(chat.redact(written), len(sources))[0]
                        ready = min(len(visible) - chat.secret_start(visible), settled(visible))
                        if ready > shown:
                            self.on_text(visible[shown:ready])
                            shown = ready
                finally:
                    watchdog.cancel()
        except (*_FAILURES, httpx.StreamError) as error:
            if not written:
                raise LLMError(chat.failure(error)) from None
            if chat.left() <= 0:  # closed by the watchdog
                log.warning("LLM answer not finished in time after %d characters", len(written))
                raise LLMError(chat.timed_out()) from None
            raise LLMError(CUT_OFF) from None
        if finish is None:
            log.warning("LLM stream ended without a finish reason after %d characters", len(written))
            raise LLMError(chat.timed_out() if chat.left() <= 0 else CUT_OFF)
        visible = tidy(chat.redact(written), len(sources))[0].rstrip()
        if len(visible) > shown:
            self.on_text(visible[shown:])
        return written, finish

    def sources(self, hits: Sequence[Hit], whole: bool = False) -> list[Source]:
        """The paragraphs of the best hits, numbered from 1 in rank order: at most `max_sources` of them (any
        number when `whole`: an article to summarise), and no more than fit in `context_tokens` (a paragraph too
        long for what is left is cut to the sentences around its retrieved ones; once not even that fits, the rest
        are left out)."""
        by_paragraph: dict[str, list[Hit]] = {}
        for hit in hits:
            pid = hit.record.paragraph_id
            if pid in by_paragraph or whole or len(by_paragraph) < self.max_sources:
                by_paragraph.setdefault(pid, []).append(hit)
        left = self.settings.context_tokens
        sources: list[Source] = []
        for group in by_paragraph.values():
            text = self._excerpt(group, left - SOURCE_OVERHEAD - tokens(group[0].record.title))
            if not text:
                break
            left -= SOURCE_OVERHEAD + tokens(group[0].record.title) + tokens(text)
            sources.append(Source(len(sources) + 1, tuple(group), text))
        return sources

    def _excerpt(self, hits: Sequence[Hit], budget: int) -> str:
        """The paragraph of `hits`, whole if it fits in `budget` tokens, else its retrieved sentences widened by
        their neighbours while they fit ("" when not even the best retrieved sentence fits)."""
        pid = hits[0].record.paragraph_id
        paragraph = self.index.paragraphs[pid]
        if tokens(paragraph) <= budget:
            return paragraph
        first, end = self.index.paragraphs.rows[pid]
        records = self.index.records[first:end]
        order = {record.id: i for i, record in enumerate(records)}
        chosen: set[int] = set()
        for hit in hits:  # best first: every retrieved sentence that still fits
            i = order.get(hit.record.id)
            if i is not None and _span_tokens(records, chosen | {i}) <= budget:
                chosen.add(i)
        if not chosen:
            return ""
        low, high = min(chosen), max(chosen)
        while True:  # then the sentences either side, nearest first
            widened = [j for j in (low - 1, high + 1) if 0 <= j < len(records)]
            grown = next((j for j in widened if _span_tokens(records, chosen | {j}) <= budget), None)
            if grown is None:
                break
            chosen.add(grown)
            low, high = min(chosen), max(chosen)
        return paragraph[records[low].start : records[high].end]

    def messages(self, question: Question, sources: Sequence[Source]) -> list[ChatCompletionMessageParam]:
        """The system prompt and the user message listing the fenced, numbered sources and the question.

        Each source is fenced by lines carrying a fresh random key, which no article can know; article text that
        looks like a fence is defused anyway."""
        fence = secrets.token_hex(4)
        listing = "\n\n".join(
            render(
                "source",
                number=source.number,
                fence=fence,
                title=unforgeable(source.hits[0].record.title),
                paragraph=source.hits[0].record.paragraph,
                text=unforgeable(source.text or self.index.paragraphs[source.hits[0].record.paragraph_id]),
            )
            for source in sources
        )
        system = render("system", canary=self.chat.canary, not_found_en=NOT_FOUND["en"], not_found_zh=NOT_FOUND["zh"])
        request = "summary" if question.asks == "summary" else "answer"
        return [
            {"role": "system", "content": system},
            {
                "role": "user",
                "content": render(request, sources=listing, fence=fence, count=len(sources), question=question.text),
            },
        ]

    def verify(self, question: Question, written: str, sources: Sequence[Source]) -> Answer:
        """The model's answer checked against its sources: bad citations dropped, the rest renumbered, figures checked."""
        warnings: list[str] = []
        text = self.chat.redact(written)
        if text != written:
            warnings.append("Text that matched a secret was removed from the answer.")
        text, order, removed = tidy(text, len(sources))  # order: the model's numbers, in order of first use
        text = text.rstrip()
        if _says_not_found(text):
            return not_found(question.text, question.lang, backend=self.name)
        if not strip_markers(text).strip():
            return replace(not_found(question.text, question.lang, backend=self.name), warnings=[EMPTY])
        for number in removed:
            warnings.append(f"Removed citation {marker(number)}: the model was given no source {marker(number)}.")
        stated: dict[int, list[Figure]] = defaultdict(list)  # new number → figures its citing sentences state
        uncited = 0  # sentences that state a figure or a name and cite nothing
        for sentence, numbers in cited_sentences(text):
            if not numbers and (find_figures(sentence) or _names(sentence)):
                uncited += 1
                if not find_figures(sentence):  # a figure's own warning, below, says it already
                    warnings.append(f"The sentence “{_short(sentence)}” cites no source.")
            for figure in find_figures(strip_markers(sentence)):
                supporting = [n for n in numbers if states_figure(self._paragraph(sources[order[n - 1] - 1]), figure)]
                for number in supporting:
                    stated[number].append(figure)
                if not supporting:
                    where = "the sources it cites" if numbers else "any source (its sentence cites none)"
                    warnings.append(f"The figure “{figure.text}” is not stated in {where}.")
        citations = [self._cite(new, sources[old - 1], stated[new]) for new, old in enumerate(order, start=1)]
        if not citations:
            warnings.append("The answer cites no source; it could not be checked against the articles.")
        warnings += _unsupported(text, [c.text for c in citations], [question.text, *(c.title for c in citations)])
        # An answer is found only when what it states is tied to a source: no citation at all, or a sentence of
        # fact citing nothing, leaves it unchecked however right it may be.
        found = bool(citations) and not uncited
        return Answer(question.text, text, found, citations, warnings, backend=self.name)

    def _paragraph(self, source: Source) -> str:
        return self.index.paragraphs[source.hits[0].record.paragraph_id]

    def _cite(self, number: int, source: Source, figures: list[Figure]) -> Citation:
        """Cite a source's paragraph, quoting for each figure the sentence that states it (else the best retrieved one).

        When several sentences state a figure, the one retrieval ranked highest is quoted: the paragraph may also
        say "百名人才" where the answer's "about 100" means "近100家".
        """
        best = source.hits[0]
        retrieved = [hit.record for hit in source.hits]
        first, end = self.index.paragraphs.rows[best.record.paragraph_id]
        paragraph = self.index.records[first:end]
        ranked = retrieved + [record for record in paragraph if record not in retrieved]
        quoted = {next((r.id for r in ranked if states_figure(r.text, figure)), None) for figure in figures}
        chosen = [replace(best, record=record) for record in paragraph if record.id in quoted]
        return cite(number, chosen or [best], self.index.paragraphs)


def _span_tokens(records: Sequence[Record], chosen: set[int]) -> int:
    """Tokens of the stretch of a paragraph from the first to the last of the `chosen` sentences."""
    return sum(tokens(records[i].text) + 1 for i in range(min(chosen), max(chosen) + 1))


def tidy(text: str, given: int) -> tuple[str, list[int], list[int]]:
    """Answer text with markers put in order: (text, the kept numbers by first use, the removed numbers).

    [1, 2] and 【1】 are read as [1][2] and [1]; a marker of a source that was not given is removed; the rest
    are renumbered 1, 2, … in order of first use. Applied to a growing prefix, it only ever appends.
    """
    text = _MARKER_LIST.sub(lambda m: "".join(marker(int(n)) for n in re.findall(r"\d+", m.group(1))), text)
    removed = [n for n in cited_numbers(text) if not 1 <= n <= given]
    text = re.sub(r"\s*" + MARKER.pattern, lambda m: "" if int(m.group(1)) in removed else m.group(), text)
    order = cited_numbers(text)
    text = MARKER.sub(lambda m: marker(order.index(int(m.group(1))) + 1), text)
    text = re.sub(r"(\[\d{1,3}\])(?:\s*\1)+", r"\1", text)  # [1][1], perhaps only after renumbering
    return text.lstrip(), order, removed


def settled(text: str) -> int:
    """How much of a growing answer is final: all but trailing spaces and a marker still being written."""
    match = _UNSETTLED.search(text)
    return match.start() if match else len(text)


def cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences with the marker numbers each cites (markers opening a sentence belong to the one before)."""
    spans: list[tuple[int, int]] = []
    for sentence in split_sentences(text):
        start = sentence.start
        lead = re.match(r"(?:\s*" + MARKER.pattern + r")+", sentence.text)
        if lead and spans:
            spans[-1] = (spans[-1][0], start + lead.end())
            start += lead.end()
        if text[start : sentence.end].strip():
            spans.append((start, sentence.end))
    return [(text[a:b].strip(), cited_numbers(text[a:b])) for a, b in spans]


def _says_not_found(text: str) -> bool:
    plain = strip_markers(text).strip().strip('"“”')
    return any(plain.startswith(phrase) or plain == phrase.rstrip(".。") for phrase in NOT_FOUND.values())


def _names(sentence: str) -> list[str]:
    """Names in a sentence of Latin script: runs of capitalised words, less a sentence's first word standing alone
    (capitalised only because it opens the sentence)."""
    plain = strip_markers(sentence)
    found = [m for m in _NAME.finditer(plain)]
    return [m.group() for m in found if m.start() > 0 or " " in m.group()]


def _unsupported(text: str, cited: Sequence[str], known: Sequence[str] = ()) -> list[str]:
    """Warnings for each link and Latin-script name in the answer that no cited paragraph contains (a name may
    also come from `known`: the question, the cited articles' titles)."""
    warnings: list[str] = []
    pool = " ".join(cited).lower()
    for url in dict.fromkeys(u.rstrip(".,;:!?)]}”’'\"") for u in _URL.findall(text)):
        if url.lower() not in pool:
            warnings.append(f"The link “{url}” is in no source the answer cites.")
    # A Chinese paragraph writes names its own way: they are checked only when every cited paragraph is in Latin script.
    latin = " ".join(cited).lower() if cited and not any(CJK.search(paragraph) for paragraph in cited) else ""
    if latin:
        plain = _URL.sub(" ", text)
        for sentence in split_sentences(plain):
            for name in dict.fromkeys(_names(sentence.text)):
                if name.lower() not in latin and name.lower() not in " ".join(known).lower():
                    warnings.append(f"The name “{name}” is in no source the answer cites.")
    return warnings


def _short(sentence: str, most: int = 80) -> str:
    plain = strip_markers(sentence).strip()
    return plain if len(plain) <= most else plain[: most - 1] + "…"


_URL = re.compile(r"(?:https?://|www\.)[^\s<>\[\]【】]+", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][a-zA-Z'’-]+(?:\s+(?:of\s+|the\s+|and\s+)?[A-Z][a-zA-Z'’-]+)*")


def _retryable(error: Exception) -> bool:
    """A failure worth another try: no connection, a timeout, or a status that says "later"."""
    if isinstance(error, APIStatusError):
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return isinstance(error, (APIConnectionError, httpx.TransportError))


def _retry_after(error: Exception) -> float | None:
    """The seconds a 429 or 503 asks the client to wait (`retry-after-ms` or `retry-after`), if it says."""
    if not isinstance(error, APIStatusError):
        return None
    headers = error.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name, "")) * scale)
        except ValueError:
            continue
    return None


def _notice(error: Exception) -> str:
    """The reader's notice for a failed call; only the error's type and status are logged, never its message."""
    status = error.status_code if isinstance(error, APIStatusError) else None
    log.warning("LLM request failed: %s%s", type(error).__name__, f" (HTTP {status})" if status else "")
    if status is not None and status < 500 and status not in (408, 409, 429):
        return f"The language model refused the request (HTTP {status}); this is the offline answer."
    return UNREACHABLE
