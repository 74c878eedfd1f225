"""Hybrid retrieval over sentences: dense (Chroma) and keyword (BM25), per article language, fused by RRF."""

from __future__ import annotations

import json
import os
import threading
import zipfile
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from rag.corpus import Paragraph, paragraph_text
from rag.embeddings import Embedder, embed_queries
from rag.keyword import KeywordIndex
from rag.question import translated_query
from rag.store import Record, Sentences, Store
from rag.text import TOKENIZER, cut, proper_names, tokenize

if TYPE_CHECKING:
    from rag.query import Query

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Hit:
    """A retrieved sentence and how it ranked."""

    record: Record
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity to the question (0 when only the keyword side found it)
    keyword: float  # BM25 score (0 when only the dense side found it)


class Index:
    """The in-memory view of the store used at question time: sentences, paragraphs and the keyword index.

    Held column by column, so it is saved to and loaded from one file in a fraction of a second, and it
    changes article by article (`updated`): an ingest cuts the words of its new sentences only.
    """

    FORMAT = 1  # of the saved file

    def __init__(
        self,
        records: Sequence[Record] = (),
        terms: Sequence[Sequence[str] | None] | None = None,
        manifest: Mapping[str, str] | None = None,
    ) -> None:
        """Index `records` (in reading order); `terms` are their stored search terms where known, and
        `manifest` maps each article fully included to its digest."""
        docs: dict[str, int] = {}
        for record in records:
            docs.setdefault(record.document, len(docs))
        firsts: dict[str, Record] = {}
        for record in records:
            firsts.setdefault(record.document, record)
        terms = terms or [None] * len(records)
        self._set(
            manifest=dict(manifest or {}),
            docs=list(docs),
            titles=[firsts[d].title for d in docs],
            langs=[firsts[d].lang for d in docs],
            doc=np.array([docs[r.document] for r in records], np.int32),
            ids=[r.id for r in records],
            texts=[r.text for r in records],
            pids=[r.paragraph_id for r in records],
            kinds=[r.kind for r in records],
            numbers=np.array([(r.paragraph, r.sentence, r.start, r.end) for r in records], np.int32).reshape(-1, 4),
            keyword=KeywordIndex.build(
                [t if t is not None else cut(r.text) for r, t in zip(records, terms, strict=True)]
            ),
        )

    def _set(self, **columns: Any) -> None:
        self.manifest: dict[str, str] = columns["manifest"]
        self.revision: str = columns.get("revision", "")  # the store's revision this index reflects
        self._docs: list[str] = columns["docs"]
        self._titles: list[str] = columns["titles"]
        self._langs: list[str] = columns["langs"]
        self._doc: np.ndarray = columns["doc"]
        self._ids: list[str] = columns["ids"]
        self._texts: list[str] = columns["texts"]
        self._pids: list[str] = columns["pids"]
        self._kinds: list[str] = columns["kinds"]
        self._numbers: np.ndarray = columns["numbers"]
        self.keyword: KeywordIndex = columns["keyword"]
        self.records = _Records(self)
        self.languages = sorted({self._langs[d] for d in np.unique(self._doc).tolist()})
        self.paragraphs = _Paragraphs(self)
        self.topics: Mapping[str, frozenset[str]] = _Topics(self)
        self.names: Mapping[str, tuple[str, ...]] = _Names(self)
        # Word sets the answerer checks evidence against, each made once when first asked for.
        self.words: Sequence[frozenset[str]] = _Words(self)
        self.context_words: Mapping[str, frozenset[str]] = _ContextWords(self)

    def __len__(self) -> int:
        return len(self._ids)

    def record(self, i: int) -> Record:
        """Sentence `i` (its position in reading order)."""
        d = int(self._doc[i])
        paragraph, sentence, start, end = self._numbers[i].tolist()
        return Record(
            self._ids[i], self._texts[i], self._docs[d], self._titles[d], self._langs[d],
            paragraph, self._pids[i], self._kinds[i], sentence, start, end,
        )  # fmt: skip

    def keyword_search(self, terms: Mapping[str, float], k: int) -> dict[str, list[tuple[int, float]]]:
        """Per article language, the `k` best (sentence position, BM25 score) pairs with a score above zero."""
        if not len(self) or not terms or k <= 0:
            return {}
        scores = self.keyword.scores(terms)
        rankings = {}
        for lang, rows in self._rows_by_language.items():
            found = rows[scores[rows] > 0]
            best = found[np.argsort(-scores[found], kind="stable")[:k]]
            if len(best):
                rankings[lang] = [(int(i), float(scores[i])) for i in best]
        return rankings

    @cached_property
    def article_rows(self) -> dict[str, tuple[int, int]]:
        """Article -> the positions of its first sentence and of the one after its last."""
        bounds = np.searchsorted(self._doc, np.arange(len(self._docs) + 1)).tolist()
        return {name: (bounds[i], bounds[i + 1]) for i, name in enumerate(self._docs)}

    @cached_property
    def _rows_by_language(self) -> dict[str, np.ndarray]:
        codes = {name: code for code, name in enumerate(self.languages)}
        lang = np.array([codes.get(name, -1) for name in self._langs], np.int32)[self._doc]
        return {name: np.flatnonzero(lang == code) for name, code in codes.items()}

    @cached_property
    def position(self) -> dict[str, int]:
        """Sentence id -> position in `records`."""
        return dict(zip(self._ids, range(len(self._ids)), strict=True))

    @cached_property
    def vocabularies(self) -> dict[str, Counter[str]]:
        """Per article language, each word's document frequency: what a translated question word may become."""
        terms = self.keyword.terms
        vocabularies: dict[str, Counter[str]] = defaultdict(Counter)
        for name, counts in self._frequencies.items():
            found = np.flatnonzero(counts)
            vocabularies[name] = Counter(dict(zip([terms[i] for i in found], counts[found].tolist(), strict=True)))
        return vocabularies

    @cached_property
    def _frequencies(self) -> dict[str, np.ndarray]:
        """Per article language, each term id's document frequency (saved with the index)."""
        postings = self.keyword.postings
        term = np.repeat(np.arange(len(self.keyword.terms)), np.diff(postings["start"]))
        lang_of_doc = np.array([self.languages.index(lang) for lang in self._langs], np.int32).reshape(-1)
        lang = lang_of_doc[self._doc[postings["rows"]]] if len(term) else np.zeros(0, np.int32)
        return {
            name: np.bincount(term[lang == code], minlength=len(self.keyword.terms)).astype(np.int32)
            for code, name in enumerate(self.languages)
        }

    @cached_property
    def _paragraph_starts(self) -> list[int]:
        """The position of each paragraph's first sentence (saved with the index)."""
        pids = self._pids
        return [i for i in range(len(pids)) if i == 0 or pids[i] != pids[i - 1]]

    def article(self, document: str) -> list[Paragraph]:
        """The paragraphs of one article in reading order, numbered as citations number them; [] when unknown."""
        if document not in self._docs:
            return []
        rows = set(np.flatnonzero(self._doc == self._docs.index(document)).tolist())
        paragraphs = []
        for first in (i for i in self._paragraph_starts if i in rows):
            record = self.record(first)
            text = self.paragraphs[record.paragraph_id]
            paragraphs.append(Paragraph(record.paragraph_id, document, record.paragraph, record.kind, text, ()))
        return paragraphs

    def sentences(self, document: str) -> list[Record]:
        """The stored sentences of one article in reading order; [] when unknown."""
        if document not in self._docs:
            return []
        rows = np.flatnonzero(self._doc == self._docs.index(document)).tolist()
        return [self.record(i) for i in rows]

    @property
    def titles(self) -> dict[str, str]:
        """Article id -> title, for every article indexed."""
        return dict(zip(self._docs, self._titles, strict=True))

    @property
    def article_languages(self) -> dict[str, str]:
        """Article id -> its language, for every article indexed."""
        return dict(zip(self._docs, self._langs, strict=True))

    def updated(self, removed: Iterable[str], added: Sentences) -> Index:
        """A new index: the articles `removed` (and those in `added`) taken out, the sentences `added` put in."""
        gone = set(removed) | set(added.articles)
        keep = np.flatnonzero(~np.isin(self._doc, [i for i, d in enumerate(self._docs) if d in gone]))
        manifest = {d: digest for d, digest in self.manifest.items() if d not in gone}
        manifest.update({d: a.digest for d, a in added.articles.items()})
        new = Index(added.records, added.terms, manifest)
        if not len(keep):
            return new  # nothing kept: the sentences read are already in reading order
        rows = keep.tolist()
        return Index._assemble(
            manifest=manifest,
            docs=self._docs + new._docs,
            titles=self._titles + new._titles,
            langs=self._langs + new._langs,
            doc=np.concatenate([self._doc[keep], new._doc + len(self._docs)]).astype(np.int32),
            ids=[self._ids[i] for i in rows] + new._ids,
            texts=[self._texts[i] for i in rows] + new._texts,
            pids=[self._pids[i] for i in rows] + new._pids,
            kinds=[self._kinds[i] for i in rows] + new._kinds,
            numbers=np.concatenate([self._numbers[keep], new._numbers]).reshape(-1, 4),
            keyword=self.keyword.subset(keep).joined(new.keyword),
        )

    @classmethod
    def _assemble(cls, **columns: Any) -> Index:
        """An index of these columns, rows put in reading order and articles without rows dropped."""
        docs: list[str] = columns["docs"]
        doc: np.ndarray = columns["doc"]
        numbers: np.ndarray = columns["numbers"]
        used = np.unique(doc)
        names = [docs[i] for i in used.tolist()]
        ranked = sorted(range(len(names)), key=names.__getitem__)
        renumber = np.zeros(len(docs), np.int32)
        renumber[used[ranked]] = np.arange(len(used), dtype=np.int32)
        doc = renumber[doc]
        order = np.lexsort((numbers[:, 1], numbers[:, 0], doc)) if len(doc) else np.zeros(0, np.int64)
        rows = order.tolist()
        index = cls.__new__(cls)
        index._set(
            manifest=columns["manifest"],
            docs=[names[i] for i in ranked],
            titles=[columns["titles"][used[i]] for i in ranked],
            langs=[columns["langs"][used[i]] for i in ranked],
            doc=doc[order],
            ids=[columns["ids"][i] for i in rows],
            texts=[columns["texts"][i] for i in rows],
            pids=[columns["pids"][i] for i in rows],
            kinds=[columns["kinds"][i] for i in rows],
            numbers=numbers[order],
            keyword=columns["keyword"].subset(order),
        )
        return index

    def save(self, path: Path) -> None:
        """Write the index to one file (atomically: a reader sees the old file or the new one)."""
        postings = self.keyword.postings
        kinds = sorted(set(self._kinds))
        starts = self._paragraph_starts
        meta = {
            "format": self.FORMAT,
            "tokenizer": TOKENIZER,
            "manifest": self.manifest,
            "languages": self.languages,
            "revision": self.revision,
            "kinds": kinds,
        }
        arrays: dict[str, Any] = {
            "meta": _utf8(json.dumps(meta)),
            "doc": self._doc,
            "numbers": self._numbers,
            "kind": np.array([kinds.index(k) for k in self._kinds], np.uint8),
            "paragraph_starts": np.array(starts, np.int64),
            "tokens": self.keyword.tokens,
            "offsets": self.keyword.offsets,
            **{f"postings_{name}": array for name, array in postings.items()},
            **{f"frequency_{i}": self._frequencies[lang] for i, lang in enumerate(self.languages)},
        }
        for name, strings in (
            ("docs", self._docs),
            ("titles", self._titles),
            ("langs", self._langs),
            ("ids", self._ids),
            ("texts", self._texts),
            ("pids", [self._pids[i] for i in starts]),
            ("terms", self.keyword.terms),
        ):
            arrays[name], arrays[f"{name}_ends"] = _pack(strings)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with temporary.open("wb") as file:
                np.savez(file, **arrays)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)  # a full disk keeps no half file
            raise

    @classmethod
    def load(cls, path: Path) -> Index | None:
        """The index saved at `path`, or None when there is none usable (missing, damaged, another format)."""
        try:
            with np.load(path) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                if meta.get("format") != cls.FORMAT or meta.get("tokenizer") != TOKENIZER:
                    return None
                strings = {
                    name: _unpack(data[name], data[f"{name}_ends"])
                    for name in ("docs", "titles", "langs", "ids", "texts", "pids", "terms")
                }
                doc = data["doc"]
                starts = data["paragraph_starts"]
                runs = np.diff(np.append(starts, len(doc))).astype(np.int64)
                pids = strings["pids"]
                kinds = meta["kinds"]
                keyword = KeywordIndex(
                    strings["terms"],
                    data["tokens"],
                    data["offsets"],
                    postings={name: data[f"postings_{name}"] for name in ("start", "rows", "weight", "frequency")},
                )
                index = cls.__new__(cls)
                index._set(
                    manifest=dict(meta["manifest"]),
                    revision=str(meta.get("revision", "")),
                    docs=strings["docs"],
                    titles=strings["titles"],
                    langs=strings["langs"],
                    doc=doc,
                    ids=strings["ids"],
                    texts=strings["texts"],
                    pids=[pids[i] for i in np.repeat(np.arange(len(pids)), runs).tolist()],
                    kinds=[kinds[k] for k in data["kind"].tolist()],
                    numbers=data["numbers"].reshape(-1, 4),
                    keyword=keyword,
                )
                index._paragraph_starts = starts.tolist()
                if meta.get("languages") == index.languages:
                    index._frequencies = {lang: data[f"frequency_{i}"] for i, lang in enumerate(index.languages)}
                return index
        except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile, json.JSONDecodeError):
            return None


def _utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), np.uint8)


def _pack(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 array and the character offset where each ends."""
    return _utf8("".join(strings)), np.cumsum([len(s) for s in strings], dtype=np.int64)


def _unpack(data: np.ndarray, ends: np.ndarray) -> list[str]:
    text = bytes(data).decode("utf-8")
    bounds = [0, *ends.tolist()]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


class _Records(Sequence[Record]):
    """The sentences in reading order, each made a `Record` when asked for."""

    def __init__(self, index: Index) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, i: int) -> Record: ...
    @overload
    def __getitem__(self, i: slice) -> list[Record]: ...
    def __getitem__(self, i: int | slice) -> Record | list[Record]:
        if isinstance(i, slice):
            return [self._index.record(j) for j in range(len(self))[i]]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._index.record(i % len(self))

    def __iter__(self) -> Iterator[Record]:
        return (self._index.record(i) for i in range(len(self)))


class _Paragraphs(Mapping[str, str]):
    """Paragraph id -> paragraph text, rebuilt from its sentences when asked for."""

    def __init__(self, index: Index) -> None:
        self._index = index

    @cached_property
    def rows(self) -> dict[str, tuple[int, int]]:
        """Paragraph id -> the positions of its first sentence and of the sentence after its last."""
        starts = self._index._paragraph_starts
        ends = [*starts[1:], len(self._index)]
        return {self._index._pids[first]: (first, end) for first, end in zip(starts, ends, strict=True)}

    def __getitem__(self, pid: str) -> str:
        first, end = self.rows[pid]
        index = self._index
        return paragraph_text([(int(index._numbers[i, 2]), index._texts[i]) for i in range(first, end)])

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


class _Topics(Mapping[str, frozenset[str]]):
    """Per article, the words in at least `share` of its sentences: what the article is about ("suzhou")."""

    share = 0.1

    def __init__(self, index: Index) -> None:
        self._index = index
        self._cache: dict[str, frozenset[str]] = {}

    @property
    def _rows(self) -> dict[str, tuple[int, int]]:
        return self._index.article_rows

    def __getitem__(self, document: str) -> frozenset[str]:
        topic = self._cache.get(document)
        if topic is None:
            first, end = self._rows[document]
            keyword = self._index.keyword
            offsets = keyword.offsets[first : end + 1]
            tokens = keyword.tokens[offsets[0] : offsets[-1]].astype(np.int64)
            sentence = np.repeat(np.arange(end - first), np.diff(offsets))
            # Each (sentence, term) pair once, then in how many sentences each term is.
            terms, counts = np.unique(np.unique(tokens * (end - first) + sentence) // (end - first), return_counts=True)
            chosen = terms[counts >= self.share * (end - first)].tolist()
            topic = self._cache[document] = frozenset(keyword.terms[t] for t in chosen)
        return topic

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class _Names(Mapping[str, tuple[str, ...]]):
    """Per article, the names (`proper_names`) of its sentences used in at least two of them, the most used first
    (alphabetically among equals): whom and what the article is about, though a sentence says "the city"."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._cache: dict[str, tuple[str, ...]] = {}

    def __getitem__(self, document: str) -> tuple[str, ...]:
        names = self._cache.get(document)
        if names is None:
            first, end = self._index.article_rows[document]
            found = set().union(*(proper_names(text) for text in self._index._texts[first:end]))
            # A name is found where a sentence writes it as one (not opening the sentence, for English), and
            # counted in every sentence that uses it ("Ardmoor was a market town" too).
            counts = Counter(name for i in range(first, end) for name in found & self._index.words[i])
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            names = self._cache[document] = tuple(name for name, n in ranked if n >= 2)
        return names

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.article_rows)

    def __len__(self) -> int:
        return len(self._index.article_rows)


class _Words(Sequence[frozenset[str]]):
    """Per sentence (by position), the set of its search terms."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._cache: dict[int, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, i: int) -> frozenset[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[frozenset[str]]: ...
    def __getitem__(self, i: int | slice) -> frozenset[str] | list[frozenset[str]]:
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        words = self._cache.get(i)
        if words is None:
            words = self._cache[i] = frozenset(self._index.keyword.sentence_terms(i))
        return words


class _ContextWords(Mapping[str, frozenset[str]]):
    """Paragraph id -> the search terms of the whole paragraph and of its article's title."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._cache: dict[str, frozenset[str]] = {}

    def __getitem__(self, pid: str) -> frozenset[str]:
        words = self._cache.get(pid)
        if words is None:
            index = self._index
            first, end = index.paragraphs.rows[pid]
            title = index._titles[int(index._doc[first])]
            words = frozenset(tokenize(title)).union(*(index.words[i] for i in range(first, end)))
            self._cache[pid] = words
        return words

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.paragraphs)

    def __len__(self) -> int:
        return len(self._index.paragraphs)


class Retriever:
    """Finds the sentences most likely to answer a question."""

    # Keyword matches in another language than the question's come through dictionary translations, which are
    # noisy: they join the candidates the answerer weighs, but weigh this much in the fused rank. At 0 the
    # question's own language keeps its ranking (evaluation MRR 0.72; at 0.2, 0.48) and the answers barely move
    # (calibration set: 58.1% correct at 0, 59.0% at 0.2).
    translated_weight = 0.0

    def __init__(self, store: Store, embedder: Embedder, index: Index, candidates: int = 20, rrf_k: int = 60):
        self.store = store
        self.embedder = embedder
        self.index = index
        self.candidates = candidates
        self.rrf_k = rrf_k

    def search(
        self,
        question: str,
        terms: dict[str, float] | None = None,
        translations: dict[str, str] | None = None,
        question_lang: str | None = None,
    ) -> list[Hit]:
        """Sentences ranked by fused dense and keyword rank.

        `terms` overrides the question's own keywords; `translations` (article language → the question's words in
        that language) adds a dense search of each article language with its own words; `question_lang` marks the
        keyword matches in other languages as translated ones.
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
        # Keyword candidates per article language too: the question's own words outweigh their translations,
        # so one pool would hold only sentences in the question's language.
        keyword: dict[int, float] = {}
        weights = [1.0] * len(rankings)
        for lang, ranking in self.index.keyword_search(terms, self.candidates).items():
            keyword.update(ranking)
            rankings.append(ranking)
            weights.append(self.translated_weight if question_lang and lang != question_lang else 1.0)
        fused = fuse([[i for i, _ in ranking] for ranking in rankings], self.rrf_k, weights)
        return [Hit(self.index.records[i], score, dense.get(i, 0.0), keyword.get(i, 0.0)) for i, score in fused.items()]

    def run(self, query: Query) -> list[Hit]:
        """The sentences for a query: its question's, fused by rank with those of its translations, if any."""
        searches = [query.question, *query.translations]
        rankings = [self.search(q.text, q.terms, translated_query(q), q.lang) for q in searches]
        if len(rankings) == 1:
            return rankings[0]
        best: dict[str, Hit] = {}  # per sentence, its best dense and keyword scores in any search
        for hit in (hit for ranking in rankings for hit in ranking):
            seen = best.get(hit.record.id)
            best[hit.record.id] = (
                hit
                if seen is None
                else replace(seen, dense=max(seen.dense, hit.dense), keyword=max(seen.keyword, hit.keyword))
            )
        fused = fuse([[hit.record.id for hit in ranking] for ranking in rankings], self.rrf_k)
        return [replace(best[id_], score=score) for id_, score in fused.items()]


def fuse(rankings: Sequence[Sequence[Key]], k: int = 60, weights: Sequence[float] | None = None) -> dict[Key, float]:
    """Reciprocal rank fusion: each item's sum over the rankings of weight / (k + rank), best first (ties in order
    of first appearance)."""
    scores: dict[Key, float] = defaultdict(float)
    for weight, ranking in zip(weights or [1.0] * len(rankings), rankings, strict=True):
        for rank, key in enumerate(ranking):
            scores[key] += weight / (k + rank + 1)
    return dict(sorted(scores.items(), key=lambda item: -item[1]))
