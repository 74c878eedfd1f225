"""The LLM answerer: an OpenAI-compatible chat model writes the answer from numbered source paragraphs.

What it writes is then checked: a [n] the model was not given is removed, citations are renumbered in order
of first use, and every figure must be stated in a paragraph its sentence cites. If the model cannot be
reached (after the client's retries) or its stream breaks off, the reader gets the offline answer instead.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace

import httpx
from openai import APIStatusError, OpenAI, OpenAIError
from openai.types.chat import ChatCompletionMessageParam

from rag.answer import NOT_FOUND, Answer, Citation, not_found
from rag.citations import MARKER, cite, cited_numbers, marker, strip_markers
from rag.corpus import split_sentences
from rag.extractive import ExtractiveAnswerer
from rag.figures import Figure, find_figures, states_figure
from rag.prompts import render
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.settings import Settings

log = logging.getLogger(__name__)

Turn = tuple[str, str]
"""One earlier exchange of a conversation: (the reader's question, the answer's text)."""
Search = Callable[[str], tuple[Question, list[Hit]]]
"""The engine's retrieval: a question's text → the question as understood and the sentences found for it."""

LANGUAGES = {"en": "English", "zh": "Chinese"}
UNREACHABLE = "The language model could not be reached; this is the offline answer."
NOT_CONFIGURED = "The language model is not configured (OPENAI_API_KEY is not set); this is the offline answer."
CUT_OFF = "The language model's answer broke off; this is the offline answer."
LEAKED = "The language model's reply repeated its instructions; this is the offline answer."
REDACTED = "[redacted]"
HISTORY_TURNS = 4  # earlier turns shown to the model when it rewrites a follow-up

# What a failed call can raise: the client's own errors, transport errors surfacing while a stream is read,
# and malformed JSON in a chunk.
_FAILURES = (OpenAIError, httpx.HTTPError, ValueError)
# Models write several citations as [1, 2] or, in Chinese, 【1】; the verifier reads only [n].
_MARKER_LIST = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")
_UNSETTLED = re.compile(r"\s*(?:[\[【][\d\s,，、]*)?$")


class LLMError(RuntimeError):
    """The model failed; the message is the notice the reader gets with the offline answer."""

    def __init__(self, notice: str, shown: bool = False) -> None:
        super().__init__(notice)
        self.shown = shown  # whether part of the model's answer was already streamed to the reader


@dataclass(frozen=True)
class Source:
    """A paragraph given to the model as source [number], with the retrieved sentences that brought it in."""

    number: int
    hits: tuple[Hit, ...]


def build_client(settings: Settings) -> OpenAI | None:
    """A chat client for the settings' server; its key comes from OPENAI_API_KEY (None when that is not set)."""
    try:
        return OpenAI(base_url=settings.openai_base_url, timeout=settings.llm_timeout, max_retries=settings.llm_retries)
    except OpenAIError:
        return None


class LLMAnswerer:
    """Answers with a chat model from numbered sources, then verifies what it wrote against those sources."""

    name = "openai"

    def __init__(
        self,
        settings: Settings,
        index: Index,
        client: OpenAI | None,
        fallback: ExtractiveAnswerer | None = None,
        max_sources: int = 6,
    ) -> None:
        self.settings = settings
        self.index = index
        self.client = client
        self.fallback = fallback or ExtractiveAnswerer(index, top_k=settings.top_k)
        self.max_sources = max_sources
        # A fresh random line in the system prompt: if it shows up in a reply, the model is leaking its prompt.
        self.canary = f"rag-canary-{secrets.token_hex(8)}"
        key = client.api_key if client is not None else ""
        self.secrets = [s for s in (self.canary, key) if len(s) >= 8]

    def stream(self, text: str, history: Sequence[Turn], search: Search) -> Generator[str, None, Answer]:
        """Yield the answer to `text` (a follow-up to `history`) as it is written, and return it verified."""
        if self.client is None:
            return (yield from self._offline(search(text), NOT_CONFIGURED))
        try:
            if history:
                text = self.condense(text, history)
        except LLMError as error:
            return (yield from self._offline(search(text), str(error)))
        found = search(text)  # what the offline answer is drawn from, should the model fail from here on
        try:
            question, hits = self.retrieve(found, search)
        except LLMError as error:
            return (yield from self._offline(found, str(error)))
        sources = self.sources(hits)
        if not sources:
            answer = not_found(question.text, question.lang, backend=self.name)
            yield answer.text
            return answer
        try:
            written, finish = yield from self._write(question, sources)
        except LLMError as error:
            return (yield from self._offline(found, str(error), shown=error.shown))
        answer = self.verify(question, written, sources)
        if finish == "length":
            answer = replace(answer, warnings=[*answer.warnings, "The answer reached the length limit; it may be cut."])
        return answer

    def _write(self, question: Question, sources: Sequence[Source]) -> Generator[str, None, tuple[str, str]]:
        """Stream the model's answer, yielding only what verification will not change; returns (text, finish reason)."""
        assert self.client is not None
        written, shown, finish = "", 0, None
        try:
            with self.client.chat.completions.create(
                model=self.settings.llm_model,
                messages=self.messages(question, sources),
                temperature=self.settings.temperature,
                max_tokens=self.settings.max_tokens,
                stream=True,
            ) as chunks:
                for chunk in chunks:
                    if not chunk.choices:
                        continue
                    written += chunk.choices[0].delta.content or ""
                    finish = chunk.choices[0].finish_reason or finish
                    if self.canary in written:
                        log.warning("LLM reply contained the system prompt's canary")
                        raise LLMError(LEAKED, shown=shown > 0)
                    # The tidied text, less a marker or a secret that may still be arriving.
                    visible = tidy(self.redact(written), len(sources))[0]
                    ready = min(len(visible) - self._secret_start(visible), settled(visible))
                    if ready > shown:
                        yield visible[shown:ready]
                        shown = ready
        except _FAILURES as error:
            raise LLMError(_notice(error) if not written else CUT_OFF, shown=shown > 0) from None
        if finish is None:
            log.warning("LLM stream ended without a finish reason after %d characters", len(written))
            raise LLMError(CUT_OFF, shown=shown > 0)
        visible = tidy(self.redact(written), len(sources))[0].rstrip()
        if len(visible) > shown:
            yield visible[shown:]
        return written, finish

    def condense(self, text: str, history: Sequence[Turn]) -> str:
        """The follow-up `text` rewritten by the model as a standalone question."""
        turns = "\n\n".join(
            render("turn", question=question, answer=strip_markers(answer))
            for question, answer in history[-HISTORY_TURNS:]
        )
        return self.complete(render("condense", history=turns, question=text)) or text

    def translate(self, text: str, lang: str) -> str:
        """The question `text` translated by the model into article language `lang`."""
        return self.complete(render("translate", language=LANGUAGES[lang], question=text))

    def retrieve(self, found: tuple[Question, list[Hit]], search: Search) -> tuple[Question, list[Hit]]:
        """`found` (the question's own search) fused by rank with searches for its translation into each other
        article language."""
        question, hits = found
        rankings = [hits]
        for lang in self.index.languages:
            if lang != question.lang and lang in LANGUAGES:
                translated = self.translate(question.text, lang)
                if translated and translated != question.text:
                    rankings.append(search(translated)[1])
        return question, fuse(rankings, self.settings.rrf_k)

    def complete(self, prompt: str) -> str:
        """The model's one-line reply to a single user message (no streaming); raises LLMError when it fails."""
        if self.client is None:
            raise LLMError(NOT_CONFIGURED)
        try:
            response = self.client.chat.completions.create(
                model=self.settings.llm_model,
                messages=[{"role": "user", "content": prompt}],
                temperature=0.0,
                max_tokens=min(self.settings.max_tokens, 256),
            )
        except _FAILURES as error:
            raise LLMError(_notice(error)) from None
        content = response.choices[0].message.content if response.choices else None
        line = next((line for line in (content or "").splitlines() if line.strip()), "")
        return self.redact(line).strip().strip("\"'“”「」")[: self.settings.max_question_chars]

    def sources(self, hits: Sequence[Hit]) -> list[Source]:
        """The paragraphs of the best hits, numbered from 1, at most `max_sources` of them."""
        by_paragraph: dict[str, list[Hit]] = {}
        for hit in hits:
            pid = hit.record.paragraph_id
            if pid in by_paragraph or len(by_paragraph) < self.max_sources:
                by_paragraph.setdefault(pid, []).append(hit)
        return [Source(number, tuple(group)) for number, group in enumerate(by_paragraph.values(), start=1)]

    def messages(self, question: Question, sources: Sequence[Source]) -> list[ChatCompletionMessageParam]:
        """The system prompt and the user message listing the numbered sources and the question."""
        listing = "\n\n".join(
            render(
                "source",
                number=source.number,
                title=source.hits[0].record.title,
                paragraph=source.hits[0].record.paragraph,
                text=self.index.paragraphs[source.hits[0].record.paragraph_id],
            )
            for source in sources
        )
        system = render("system", canary=self.canary, not_found_en=NOT_FOUND["en"], not_found_zh=NOT_FOUND["zh"])
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": render("answer", sources=listing, question=question.text)},
        ]

    def verify(self, question: Question, written: str, sources: Sequence[Source]) -> Answer:
        """The model's answer checked against its sources: bad citations dropped, the rest renumbered, figures checked."""
        warnings: list[str] = []
        text = self.redact(written)
        if text != written:
            warnings.append("Text that matched a secret was removed from the answer.")
        text, order, removed = tidy(text, len(sources))  # order: the model's numbers, in order of first use
        text = text.rstrip()
        if _says_not_found(text):
            return not_found(question.text, question.lang, backend=self.name)
        for number in removed:
            warnings.append(f"Removed citation {marker(number)}: the model was given no source {marker(number)}.")
        stated: dict[int, list[Figure]] = defaultdict(list)  # new number → figures its citing sentences state
        for sentence, numbers in cited_sentences(text):
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
        return Answer(question.text, text, True, citations, warnings, backend=self.name)

    def redact(self, text: str) -> str:
        """`text` with the API key and the prompt canary blanked out."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _secret_start(self, text: str) -> int:
        """Length of the end of `text` that could be the beginning of a secret (held back while streaming)."""
        return max(
            (k for s in self.secrets for k in range(min(len(s) - 1, len(text)), 0, -1) if text.endswith(s[:k])),
            default=0,
        )

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
        return cite(number, chosen or [best], self.index)

    def _offline(
        self, found: tuple[Question, list[Hit]], notice: str, shown: bool = False
    ) -> Generator[str, None, Answer]:
        """The offline answer from `found` with `notice` in its warnings (its text is yielded unless the model's was
        shown)."""
        answer = self.fallback.answer(*found)
        if not shown:
            yield answer.text
        return replace(answer, warnings=[*answer.warnings, notice])


def fuse(rankings: Sequence[Sequence[Hit]], k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion of hit lists: a sentence found by several searches adds up their 1/(k + rank)."""
    scores: dict[str, float] = defaultdict(float)
    best: dict[str, Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking):
            id_ = hit.record.id
            scores[id_] += 1.0 / (k + rank + 1)
            seen = best.get(id_)
            best[id_] = (
                hit
                if seen is None
                else replace(seen, dense=max(seen.dense, hit.dense), keyword=max(seen.keyword, hit.keyword))
            )
    return [replace(best[id_], score=score) for id_, score in sorted(scores.items(), key=lambda item: -item[1])]


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


def _notice(error: Exception) -> str:
    """The reader's notice for a failed call; only the error's type and status are logged, never its message."""
    status = error.status_code if isinstance(error, APIStatusError) else None
    log.warning("LLM request failed: %s%s", type(error).__name__, f" (HTTP {status})" if status else "")
    if status is not None and status < 500 and status not in (408, 409, 429):
        return f"The language model refused the request (HTTP {status}); this is the offline answer."
    return UNREACHABLE
