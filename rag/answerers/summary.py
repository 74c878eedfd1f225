"""The summary answerer: what an article is about, in a few of its own sentences, each cited.

Which article: the one the reader chose (the page's Summarize), else the one the question points at — by the
language it names ("the English article"), or by its subject's words met in an article's title or topic words,
through dictionary translations — else, when the question names a subject, the article most retrieved sentences
come from; with one article in the library, that one. The engine hands the answerer that article's sentences as
its hits (`article_hits`). When nothing points at one article and the library holds several, the answer is not
found: it lists the titles and says to ask about one of them, with each article's closest passage.

Offline, 3–5 sentences are chosen for centrality and coverage: LexRank (PageRank over the similarity of the e5
vectors already stored for the article's sentences: nothing is embedded again) ranks them, and a maximal marginal
relevance pass takes the most central sentence unlike those already taken, one per paragraph, until the text
reaches about `MOST_CHARS` characters. They are quoted verbatim in reading order, each citing its paragraph;
headings, captions and bylines are skipped. With a language model (`writer`), the model summarises the article's
paragraphs instead (`rag.llm`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from rag.answer import Answer, not_found
from rag.citations import cite, defuse, marker
from rag.query import Query
from rag.question import Question, summary_subject
from rag.retrieve import Hit, Index
from rag.store import Record, Store
from rag.text import tokenize

FEWEST, MOST = 3, 5  # sentences in a summary
MOST_CHARS = 700  # characters of quoted text, about
SHORTEST = 4  # search terms a sentence needs to stand in a summary (shorter ones are labels, datelines)
DAMPING = 0.85  # LexRank's, as PageRank's
CENTRALITY = 0.7  # MMR: weight of a sentence's centrality against its likeness to the sentences already taken
TITLE, TOPIC, TRANSLATED = 1.0, 0.6, 0.8  # credit of a subject word met in a title, in topic words, by translation
CLEAR = 1.25  # an article is pointed at when its subject score is this many times the next one's
LISTED = 10  # titles a "which article?" answer lists
LEAD = 0.5  # news puts what matters first: LexRank's random jumps land on paragraph k with weight 1 / (1 + k) ** LEAD
# A sentence that opens by pointing back ("He …", "These …", 其中…, 该…) cannot stand alone in a summary.
_LEANS_BACK = re.compile(
    r"^\W*(?:(?:he|she|his|her|they|their|them|it|its|this|these|those|such|there)\b|(?:其|该|这|此|他|她|它|上述|那些))",
    re.I,
)
# The article language a question names: "the English article", "article in Chinese", 英文文章, 中文报道.
_NAMED_LANGUAGE = {
    "en": re.compile(r"\benglish\b(?=\s+(?:\w+\s+)?(?:articles?|reports?|stor(?:y|ies)|news|texts?|pieces?|version))"
                     r"|\bin english\b|英文|英语", re.I),
    "zh": re.compile(r"\bchinese\b(?=\s+(?:\w+\s+)?(?:articles?|reports?|stor(?:y|ies)|news|texts?|pieces?|version))"
                     r"|\bin chinese\b|中文|汉语|华文", re.I),
}  # fmt: skip
WHICH = {
    "en": "The question does not point at one article to summarise; the library holds {count}: {titles}. "
    "Ask about one of them, for example: Summarize “{first}”.",
    "zh": "问题没有指明要概括哪一篇文章；文库中共有{count}篇：{titles}。请指明其中一篇，例如“概括《{first}》”。",
}


class Writer(Protocol):
    """What writes a summary with a language model (rag.llm.LLMAnswerer): an answer from the article's sentences."""

    def run(self, query: Query, hits: Sequence[Hit]) -> Answer: ...


class SummaryAnswerer:
    """Summarises the one article its hits come from; lists the titles when they come from several."""

    name = "offline"

    def __init__(self, index: Index, store: Store, top_k: int = 3, writer: Writer | None = None) -> None:
        self.index = index
        self.store = store
        self.top_k = top_k  # most closest passages shown beside the list of titles
        self.writer = writer

    def run(self, query: Query, hits: list[Hit]) -> Answer:
        """The summary of the article of `hits` (`article_hits`), or which articles there are to summarise."""
        question = query.question
        documents = list(dict.fromkeys(hit.record.document for hit in hits))
        if len(documents) != 1:
            return self.which(question, hits)
        if self.writer is not None:
            return self.writer.run(query, hits)
        chosen = self.choose(self.index.sentences(documents[0]))
        if not chosen:
            return self.which(question, hits)
        by_paragraph: dict[str, Hit] = {}
        for record in chosen:
            by_paragraph.setdefault(record.paragraph_id, Hit(record, 0.0, 0.0, 0.0))
        citations = [cite(n, [hit], self.index.paragraphs) for n, hit in enumerate(by_paragraph.values(), start=1)]
        number = {c.paragraph: c.number for c in citations}
        glue = "" if chosen[0].lang == "zh" else " "
        text = glue.join(f"{defuse(r.text.strip())} {marker(number[r.paragraph])}" for r in chosen)
        return Answer(question.text, text, True, citations, backend=self.name, kind="summary")

    def choose(self, records: Sequence[Record]) -> list[Record]:
        """The summary's sentences in reading order: the most central one unlike those taken (LexRank, then MMR),
        one per paragraph, while the text stays within about MOST_CHARS characters."""
        running = [r for r in records if r.kind == "paragraph" and _stands_alone(r.text)]
        if not running:
            return []
        stored = self.store.vectors(running[0].lang, [r.id for r in running])
        running = [r for r in running if r.id in stored]
        if not running:
            return []
        vectors = np.array([stored[r.id] for r in running], dtype=np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        likeness = vectors @ vectors.T
        order = {pid: k for k, pid in enumerate(dict.fromkeys(r.paragraph_id for r in running))}
        centrality = lexrank(likeness, np.array([1.0 / (1 + order[r.paragraph_id]) ** LEAD for r in running]))
        # e5 puts any two sentences of one article close together: likeness counts above the article's typical one.
        off = likeness[~np.eye(len(running), dtype=bool)]
        low, high = (float(np.median(off)), float(off.max())) if len(off) else (0.0, 1.0)
        alike = np.clip((likeness - low) / max(high - low, 1e-9), 0.0, 1.0)
        central = centrality / centrality.max()
        taken: list[int] = []
        used = 0
        paragraphs: set[str] = set()
        left = set(range(len(running)))
        while left and len(taken) < MOST:
            scores = {
                i: CENTRALITY * central[i] - (1 - CENTRALITY) * max((alike[i, j] for j in taken), default=0.0)
                for i in left
            }
            best = max(scores, key=lambda i: (scores[i], -i))
            left.discard(best)
            record = running[best]
            size = len(record.text.strip())
            if record.paragraph_id in paragraphs or used + size > MOST_CHARS:
                continue  # one sentence per paragraph; one too long for what is left gives way to a shorter one
            taken.append(best)
            used += size
            paragraphs.add(record.paragraph_id)
        return [running[i] for i in sorted(taken)]

    def which(self, question: Question, hits: Sequence[Hit]) -> Answer:
        """Not found: the question points at no one article. The titles, and each article's closest passage."""
        titles = self.index.titles
        if not titles:
            return not_found(question.text, question.lang)
        order = list(dict.fromkeys([*(hit.record.document for hit in hits), *titles]))
        shown = [titles[d] for d in order[:LISTED]]
        more = len(order) - len(shown)
        if question.lang == "zh":
            listing = "、".join(f"《{t}》" for t in shown) + (f"等（另有{more}篇）" if more else "")
        else:
            listing = "; ".join(f"“{t}”" for t in shown) + (f"; and {more} more" if more else "")
        text = WHICH["zh" if question.lang == "zh" else "en"].format(count=len(order), titles=listing, first=shown[0])
        best: dict[str, Hit] = {}
        for hit in hits:
            best.setdefault(hit.record.document, hit)
        nearest = [cite(n, [hit], self.index.paragraphs) for n, hit in enumerate(best.values(), start=1)]
        return replace(not_found(question.text, question.lang, note=text), nearest=nearest[: self.top_k])


def lexrank(
    likeness: np.ndarray, prior: np.ndarray | None = None, damping: float = DAMPING, rounds: int = 50
) -> np.ndarray:
    """Each sentence's centrality: PageRank over the sentences, each linked to the others by how much more alike
    they are than the article's typical pair (continuous LexRank, Erkan and Radev 2004); the random jumps land on
    each sentence in proportion to `prior` (default: evenly)."""
    n = len(likeness)
    if n == 1:
        return np.ones(1)
    jump = np.full(n, 1.0 / n) if prior is None else prior / prior.sum()
    off = likeness[~np.eye(n, dtype=bool)]
    links = np.clip(likeness - float(np.median(off)), 0.0, None)
    np.fill_diagonal(links, 0.0)
    totals = links.sum(axis=1, keepdims=True)
    walk = np.where(totals > 0, links / np.where(totals > 0, totals, 1.0), 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(rounds):
        rank = (1 - damping) * jump + damping * walk.T @ rank
    return rank


def _stands_alone(text: str) -> bool:
    """Whether a sentence can be quoted on its own: long enough to say something, not pointing back at the one
    before, and closing every quotation it opens."""
    text = text.strip()
    if len(tokenize(text)) < SHORTEST or _LEANS_BACK.match(text):
        return False
    return text.count("“") == text.count("”") and text.count('"') % 2 == 0


def article_hits(query: Query, hits: list[Hit], index: Index) -> list[Hit]:
    """The sentences of the article a summary question is of (`pointed_at`), in reading order, as hits (those
    retrieved keep their scores); `hits` as they are when it points at none."""
    document = pointed_at(query, hits, index)
    if document is None:
        return hits
    retrieved = {hit.record.id: hit for hit in hits}
    return [retrieved.get(record.id) or Hit(record, 0.0, 0.0, 0.0) for record in index.sentences(document)]


def pointed_at(query: Query, hits: Sequence[Hit], index: Index) -> str | None:
    """The article a summary question is of: the one chosen, the library's only one, the one in the language the
    question names or whose title and topic words its subject meets clearly best, else the one most retrieved
    sentences come from when it names a subject the library knows; None when nothing points at one."""
    titles = index.titles
    if query.document in titles:
        return query.document
    if len(titles) <= 1:
        return next(iter(titles), None)
    question = query.question
    named = _names_language(question.text)
    candidates = [d for d in titles if not named or _language(d, index) in named]
    if len(candidates) <= 1:
        return next(iter(candidates), None)
    subject = [t for t in tokenize(summary_subject(question.text)) if t in question.terms]
    if not subject:
        return None
    scores = {d: _subject_score(question, subject, titles[d], index.topics[d], index) for d in candidates}
    ranked = sorted(candidates, key=lambda d: -scores[d])
    first, second = scores[ranked[0]], scores[ranked[1]]
    if first > 0 and first >= CLEAR * second:
        return ranked[0]
    if first == 0 and not any(_known(question, term, index) for term in subject):
        return None  # a subject no article mentions ("the report on France")
    # The article most of the best retrieved sentences come from; in a tie, one in the question's language.
    counts = Counter(hit.record.document for hit in hits[: 4 * FEWEST] if hit.record.document in candidates)
    if not counts:
        return None
    return max(counts, key=lambda d: (counts[d], _language(d, index) == question.lang, -ranked.index(d)))


def _language(document: str, index: Index) -> str:
    """An article's language."""
    return index.article_languages[document]


def _names_language(text: str) -> set[str]:
    """The article languages a question names ("the English article": {"en"})."""
    return {lang for lang, pattern in _NAMED_LANGUAGE.items() if pattern.search(text)}


def _subject_score(
    question: Question, subject: Sequence[str], title: str, topic: frozenset[str], index: Index
) -> float:
    """How well an article's title and topic words meet the question's subject words (by rarity, translations
    counting a little less)."""
    title_words = frozenset(tokenize(title))
    score = 0.0
    for term in subject:
        forms = [(term, 1.0), *((t, TRANSLATED) for t in question.expansions.get(term, ()))]
        credit = max(
            (weight * (TITLE if form in title_words else TOPIC if form in topic else 0.0) for form, weight in forms),
            default=0.0,
        )
        score += credit * _rarity(term, question, index)
    return score


def _rarity(term: str, question: Question, index: Index) -> float:
    """Inverse sentence frequency of a word (or its commonest translation) in the library."""
    forms = [term, *question.expansions.get(term, ())]
    frequency = max(index.keyword.document_frequency.get(form, 0) for form in forms)
    return math.log(1.0 + (len(index) + 1) / (frequency + 0.5))


def _known(question: Question, term: str, index: Index) -> bool:
    """Whether any article uses the word, as written or translated."""
    return any(index.keyword.document_frequency.get(form, 0) for form in [term, *question.expansions.get(term, ())])


__all__ = ["SummaryAnswerer", "article_hits", "lexrank", "pointed_at"]
