"""Hybrid retrieval over sentences: dense (Chroma) and keyword (BM25), per article language, fused by RRF."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from llama_index.core.embeddings import BaseEmbedding

from rag.corpus import paragraph_text
from rag.embeddings import embed_queries
from rag.keyword import KeywordIndex, tokenize
from rag.store import Record, Store


@dataclass(frozen=True)
class Hit:
    """A retrieved sentence and how it ranked."""

    record: Record
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity to the question (0 when only the keyword side found it)
    keyword: float  # BM25 score (0 when only the dense side found it)


class Index:
    """The in-memory view of the store used at question time: sentences, paragraphs and the keyword index."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.position = {record.id: i for i, record in enumerate(records)}
        by_paragraph: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for record in records:
            by_paragraph[record.paragraph_id].append((record.start, record.text))
        self.paragraphs = {pid: paragraph_text(parts) for pid, parts in by_paragraph.items()}
        self.languages = sorted({record.lang for record in records})
        tokens = [tokenize(record.text) for record in records]
        self.keyword = KeywordIndex([record.text for record in records], tokens=tokens)
        self.topics = _topics(records, tokens)
        # Word sets the answerer checks evidence against, computed once rather than per question.
        self.words = [frozenset(words) for words in tokens]
        paragraph_words: dict[str, set[str]] = defaultdict(set)
        for record, words in zip(records, self.words, strict=True):
            paragraph_words[record.paragraph_id] |= words
        titles = {record.document: record.title for record in records}
        title_words = {document: frozenset(tokenize(title)) for document, title in titles.items()}
        self.context_words = {
            record.paragraph_id: frozenset(paragraph_words[record.paragraph_id]) | title_words[record.document]
            for record in records
        }
        # Per article language, each word's document frequency: what a translated question word may become.
        self.vocabularies: dict[str, Counter[str]] = defaultdict(Counter)
        for record, word_set in zip(records, self.words, strict=True):
            self.vocabularies[record.lang].update(word_set)

    def __len__(self) -> int:
        return len(self.records)


def _topics(records: list[Record], tokens: list[list[str]], share: float = 0.1) -> dict[str, frozenset[str]]:
    """Per article, the words in at least `share` of its sentences: what the article is about ("suzhou")."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter()
    for record, words in zip(records, tokens, strict=True):
        counts[record.document].update(set(words))
        sizes[record.document] += 1
    return {
        document: frozenset(word for word, n in counter.items() if n >= share * sizes[document])
        for document, counter in counts.items()
    }


class Retriever:
    """Finds the sentences most likely to answer a question."""

    def __init__(self, store: Store, embedder: BaseEmbedding, index: Index, candidates: int = 20, rrf_k: int = 60):
        self.store = store
        self.embedder = embedder
        self.index = index
        self.candidates = candidates
        self.rrf_k = rrf_k

    def search(
        self, question: str, terms: dict[str, float] | None = None, translations: dict[str, str] | None = None
    ) -> list[Hit]:
        """Sentences ranked by fused dense and keyword rank.

        `terms` overrides the question's own keywords; `translations` (article language → the question's words in
        that language) adds a dense search of each article language with its own words.
        """
        if not len(self.index):
            return []
        extra = [(lang, text) for lang, text in (translations or {}).items() if lang in self.index.languages and text]
        vector, *translated = embed_queries(self.embedder, [question, *(text for _, text in extra)])
        rankings: list[list[tuple[int, float]]] = []
        dense: dict[int, float] = {}
        queries = [(lang, vector) for lang in self.index.languages]
        queries += [(lang, query) for (lang, _), query in zip(extra, translated, strict=True)]
        for lang, query in queries:
            # Searching each article language apart keeps e5's pull towards the question's language from
            # crowding the other language's sentences out of the candidates.
            found = self.store.search(query, self.candidates, where={"lang": lang})
            ranking = [(self.index.position[id_], score) for id_, score in found if id_ in self.index.position]
            for i, score in ranking:
                dense[i] = max(dense.get(i, 0.0), score)
            rankings.append(ranking)
        if terms is None:
            terms = {term: 1.0 for term in tokenize(question)}
        keyword = dict(self.index.keyword.search(terms, self.candidates))
        by_lang: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, score in sorted(keyword.items(), key=lambda item: -item[1]):
            by_lang[self.index.records[i].lang].append((i, score))
        rankings.extend(by_lang.values())
        fused: dict[int, float] = defaultdict(float)
        for ranking in rankings:
            for rank, (i, _) in enumerate(ranking):
                fused[i] += 1.0 / (self.rrf_k + rank + 1)
        return [
            Hit(self.index.records[i], score, dense.get(i, 0.0), keyword.get(i, 0.0))
            for i, score in sorted(fused.items(), key=lambda item: -item[1])
        ]
