"""The keyword side of retrieval: BM25 over sentences, Chinese cut with jieba, figures as language-neutral terms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

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


def _jieba():  # type: ignore[no-untyped-def]
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=1)
def _cutter():  # type: ignore[no-untyped-def]
    return _jieba()


def stem(word: str) -> str:
    """A light English stemmer: enough to meet 'talents' with 'talent' and 'trained' with 'train'."""
    rules = (
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
    for suffix, repl in rules:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            return word[: -len(suffix)] + repl
    return word


def tokenize(text: str) -> list[str]:
    """Search terms of a text: stemmed English words and jieba's Chinese words, stop words dropped."""
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
    return [stem(w) for w in words if w not in EN_STOP and not w[0].isdigit()]


class KeywordIndex:
    """BM25 (via bm25s) over a fixed list of sentence texts."""

    def __init__(self, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> None:
        import bm25s

        self.size = len(texts)
        docs = [list(t) for t in tokens] if tokens is not None else [tokenize(text) for text in texts]
        self.document_frequency: Counter[str] = Counter(term for doc in docs for term in set(doc))
        self._bm25 = bm25s.BM25()
        if docs:
            self._bm25.index([doc or ["<empty>"] for doc in docs], show_progress=False)

    def scores(self, terms: Mapping[str, float]) -> np.ndarray:
        """BM25 score of every sentence for weighted query terms (weight 1.0 = an ordinary query word)."""
        total = np.zeros(self.size, dtype=np.float32)
        for term, weight in terms.items():
            if weight > 0 and term in self.document_frequency:
                total += weight * self._bm25.get_scores([term])
        return total

    def search(self, terms: Mapping[str, float], k: int) -> list[tuple[int, float]]:
        """The `k` best (sentence index, score) pairs with a score above zero."""
        if not self.size or not terms:
            return []
        scores = self.scores(terms)
        k = min(k, self.size)
        best = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(best, key=lambda i: -scores[i])
        return [(int(i), float(scores[i])) for i in ranked if scores[i] > 0]
