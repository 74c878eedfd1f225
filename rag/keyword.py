"""The keyword side of retrieval: BM25 over sentences, from the search terms of `rag.text.tokenize`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np


class KeywordIndex:
    """BM25 over sentences, scored as bm25s scores it (Lucene variant, k1=1.5, b=0.75), from term ids.

    Each sentence's terms are kept as ids (`tokens[offsets[i]:offsets[i + 1]]` are sentence i's), so the
    index can be saved, reordered and extended with new sentences without cutting any text again; the
    postings (per term: the sentences holding it and their BM25 weight) are derived from them when first needed.
    """

    k1 = 1.5
    b = 0.75

    def __init__(
        self,
        terms: Sequence[str] = (),
        tokens: np.ndarray | None = None,
        offsets: np.ndarray | None = None,
        postings: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.terms = list(terms)
        self.tokens = np.zeros(0, np.int32) if tokens is None else np.asarray(tokens, np.int32)
        self.offsets = np.zeros(1, np.int64) if offsets is None else np.asarray(offsets, np.int64)
        self.size = len(self.offsets) - 1
        if postings is not None:
            self.__dict__["postings"] = dict(postings)

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> KeywordIndex:
        """The index of sentences given as their terms (see `tokenize`)."""
        ids: dict[str, int] = {}
        offsets = np.concatenate([[0], np.cumsum([len(document) for document in documents])]).astype(np.int64)
        flat = (ids.setdefault(term, len(ids)) for document in documents for term in document)
        tokens = np.fromiter(flat, np.int32, count=int(offsets[-1]))
        return cls(list(ids), tokens, offsets)

    def joined(self, other: KeywordIndex) -> KeywordIndex:
        """A new index: the sentences of `other` appended after these."""
        ids = dict(self.ids)
        renumber = np.array([ids.setdefault(term, len(ids)) for term in other.terms], np.int32)
        tokens = np.concatenate([self.tokens, renumber[other.tokens] if len(other.tokens) else other.tokens])
        return KeywordIndex(list(ids), tokens, np.concatenate([self.offsets, self.offsets[-1] + other.offsets[1:]]))

    def subset(self, rows: np.ndarray) -> KeywordIndex:
        """A new index of the sentences `rows`, in that order; terms no sentence uses any more are dropped."""
        rows = np.asarray(rows, np.int64)
        starts, lengths = self.offsets[rows], np.diff(self.offsets)[rows]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # Position j of the result comes from starts[row] + (j - offsets[row]).
        gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        tokens = self.tokens[gather]
        used = np.unique(tokens)
        renumber = np.zeros(len(self.terms), np.int32)
        renumber[used] = np.arange(len(used), dtype=np.int32)
        return KeywordIndex([self.terms[i] for i in used], renumber[tokens], offsets)

    def sentence_terms(self, row: int) -> list[str]:
        """The terms of sentence `row`."""
        return [self.terms[i] for i in self.tokens[self.offsets[row] : self.offsets[row + 1]]]

    @cached_property
    def postings(self) -> dict[str, np.ndarray]:
        """Per term (CSR by term id): `start` offsets into `rows` (the sentences holding it) and `weight`."""
        n, v = self.size, len(self.terms)
        lengths = np.diff(self.offsets)
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        pairs, tf = np.unique(self.tokens.astype(np.int64) * max(n, 1) + rows, return_counts=True)
        term, row = pairs // max(n, 1), pairs % max(n, 1)
        frequency = np.bincount(term, minlength=v)
        # As bm25s indexes it, a sentence without terms counts as one term long.
        length = np.maximum(lengths, 1).astype(np.float64)
        average = float(length.mean()) if n else 1.0
        idf = np.log(1 + (n - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        tf = tf.astype(np.float32)
        weight = idf[term] * (tf / (self.k1 * ((1 - self.b) + self.b * length[row] / average) + tf))
        return {
            "start": np.concatenate([[0], np.cumsum(frequency)]).astype(np.int64),
            "rows": row.astype(np.int32),
            "weight": weight.astype(np.float32),
            "frequency": frequency.astype(np.int32),
        }

    @cached_property
    def ids(self) -> dict[str, int]:
        """Term -> term id."""
        return {term: i for i, term in enumerate(self.terms)}

    @cached_property
    def document_frequency(self) -> Counter[str]:
        """Term -> how many sentences hold it."""
        return Counter(dict(zip(self.terms, self.postings["frequency"].tolist(), strict=True)))

    def scores(self, terms: Mapping[str, float]) -> np.ndarray:
        """BM25 score of every sentence for weighted query terms (weight 1.0 = an ordinary query word)."""
        total = np.zeros(self.size, dtype=np.float32)
        postings = self.postings
        for term, weight in terms.items():
            i = self.ids.get(term)
            if weight > 0 and i is not None:
                start, end = postings["start"][i], postings["start"][i + 1]
                total[postings["rows"][start:end]] += np.float32(weight) * postings["weight"][start:end]
        return total

    def search(self, terms: Mapping[str, float], k: int) -> list[tuple[int, float]]:
        """The `k` best (sentence index, score) pairs with a score above zero."""
        if not self.size or not terms or k <= 0:
            return []
        scores = self.scores(terms)
        k = min(k, self.size)
        best = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(best, key=lambda i: -scores[i])
        return [(int(i), float(scores[i])) for i in ranked if scores[i] > 0]
