"""The keyword side of retrieval: BM25 over sentences, Chinese cut with jieba, figures as language-neutral terms."""

from __future__ import annotations

import hashlib
import os
import re
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]|\d+(?:[.,]\d+)*")
EN_STOP = frozenset(
    """a about above after again all also am an and any are as at be been being both but by can could did
    do does doing during each few for from further had has have having he her here hers him his how i if
    in into is it its itself just me more most my no nor not now of off on once only or other our out
    over own same she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours many much does did total number whose s""".split()
)
ZH_STOP = frozenset(
    """的 了 是 在 和 与 及 等 有 为 对 以 将 把 被 也 都 而 并 或 其 之 于 中 上 下 个 这 那 什么 多少 几 哪 哪些 哪一年 何时 如何 怎样 怎么 吗 呢 啊 吧 人 年 共
    已 各 据 目前 截至 累计 一共 总共 还 又 从 到 由 向 给 让""".split()
)
STEM_RULES = (
    ("ies", "y"),
    ("sses", "ss"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("xes", "x"),
    ("ings", ""),
    ("ing", ""),
    ("ed", ""),
    ("s", ""),
)
# News and public-administration terms CC-CEDICT lacks (高新区, 党建, 科创板 …), in CC-CEDICT's own line format.
# The translator reads their senses; jieba learns their headwords, so "新三板挂牌" is cut 新三板 / 挂牌, not 新 / 三板.
GLOSSARY = Path(__file__).with_name("glossary.u8")


def glossary_words(path: Path = GLOSSARY) -> tuple[str, ...]:
    """The simplified headwords of the glossary, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.split()[1] for line in lines if line.strip() and not line.startswith("#"))


# Terms are stored beside each sentence and in the keyword snapshot; a change to how text is cut changes this
# fingerprint, and terms stored under another one are cut again.
TOKENIZER = hashlib.sha256(
    repr((2, CJK_RUN.pattern, LATIN_WORD.pattern, sorted(EN_STOP), sorted(ZH_STOP), STEM_RULES, glossary_words())).encode()
).hexdigest()[:12]


_dictionary_dir: list[Path] = []  # where jieba's dictionary is kept between processes (see `keep_dictionary_in`)


def keep_dictionary_in(folder: Path) -> None:
    """Keep jieba's prefix dictionary (with the glossary's words) in `folder`: a new process then loads it in
    ~0.35 s, where jieba's own cache takes ~1 s (most of a cold question's time after importing Chroma)."""
    _dictionary_dir[:] = [folder]


def _jieba():  # type: ignore[no-untyped-def]
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    path = _dictionary_dir[0] / f"jieba-{jieba.__version__}-{TOKENIZER}.bin" if _dictionary_dir else None
    loaded = _read_dictionary(path) if path else None
    with jieba.dt.lock:
        if loaded is not None and not jieba.dt.initialized:
            # FREQ and total are what `initialize` loads and `add_word` extends; nothing else changes.
            jieba.dt.FREQ, jieba.dt.total = loaded
            jieba.dt.initialized = True
        else:
            jieba.initialize()
            for word in glossary_words():
                jieba.add_word(word)
            if path:
                _write_dictionary(path, jieba.dt.FREQ, jieba.dt.total)
    return jieba


def _read_dictionary(path: Path) -> tuple[dict[str, int], int] | None:
    """The prefix dictionary saved by `_write_dictionary` (None when missing or not whole)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 16:
        return None
    counts = array("q")
    counts.frombytes(data[:16])
    total, size = counts
    if not 0 <= size <= (len(data) - 16) // 8:
        return None
    freqs = array("q")
    freqs.frombytes(data[16 : 16 + 8 * size])
    try:
        words = data[16 + 8 * size :].decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    return (dict(zip(words, freqs, strict=True)), total) if len(words) == size else None


def _write_dictionary(path: Path, freq: Mapping[str, int], total: int) -> None:
    """Save the prefix dictionary as counts and words (not pickle: loading a file must never run code)."""
    if any("\n" in word for word in freq):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as out:
            out.write(array("q", [total, len(freq)]).tobytes())
            out.write(array("q", freq.values()).tobytes())
            out.write("\n".join(freq).encode("utf-8"))
        os.replace(partial, path)  # whole or absent, also for a process reading it meanwhile
    except OSError:
        pass  # a read-only data folder: jieba loads its own cache next time


@lru_cache(maxsize=1)
def _cutter():  # type: ignore[no-untyped-def]
    return _jieba()


def stem(word: str) -> str:
    """A light English stemmer: enough to meet 'talents' with 'talent' and 'trained' with 'train'."""
    for suffix, repl in STEM_RULES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            return word[: -len(suffix)] + repl
    return word


@lru_cache(maxsize=1 << 16)
def root(word: str) -> str:
    """The Snowball (Porter 2) root of an English search term, shared by its derivations as well as its
    inflections ("industrial" and "industry": industri; "independently": independ). Other words are their own."""
    return _snowball().stemWord(word) if word.isascii() else word


@lru_cache(maxsize=1)
def _snowball():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def tokenize(text: str) -> list[str]:
    """Search terms of a text: stemmed English words and jieba's Chinese words, stop words dropped."""
    return list(_remembered(text))


# Answering cuts the same retrieved paragraphs again and again, and jieba is the slow part of a warm question.
@lru_cache(maxsize=16384)
def _remembered(text: str) -> tuple[str, ...]:
    return tuple(cut(text))


def cut(text: str) -> list[str]:
    """`tokenize` without its memory of recent texts: for ingest, whose texts are new."""
    tokens: list[str] = []
    position = 0
    for match in CJK_RUN.finditer(text):
        tokens.extend(_latin(text[position : match.start()]))
        tokens.extend(w for w in _cutter().lcut_for_search(match.group()) if w not in ZH_STOP)
        position = match.end()
    tokens.extend(_latin(text[position:]))
    return tokens


def _latin(text: str) -> list[str]:
    words = LATIN_WORD.findall(text.lower())
    words = [w[:-2] if w.endswith(("'s", "’s")) else w for w in words]  # London's: london
    return [stem(w) for w in words if w not in EN_STOP and not w[0].isdigit()]


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
