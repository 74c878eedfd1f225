"""Sentence vectors kept by text hash between runs, and the bundled e5 embedder answering from them.

Used by the public suite (evals/public.py) and the benchmarks: a corpus is embedded once, later runs are quick.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
from pydantic import PrivateAttr

from rag.embeddings import E5Embedding


class VectorCache:
    """Vectors by text hash, saved as two .npy files (hashes, vectors)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.keys_path = folder / f"{name}-keys.npy"
        self.vectors_path = folder / f"{name}-vectors.npy"
        self.vectors: dict[bytes, np.ndarray] = {}
        self.saved = 0
        if self.keys_path.exists() and self.vectors_path.exists():
            keys, vectors = np.load(self.keys_path), np.load(self.vectors_path)
            self.vectors = {bytes(k): v for k, v in zip(keys, vectors, strict=True)}
            self.saved = len(self.vectors)

    @staticmethod
    def key(text: str) -> bytes:
        """The cache key of a text."""
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()

    def save(self) -> None:
        """Write the cache if it grew."""
        if len(self.vectors) == self.saved:
            return
        self.keys_path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.frombuffer(b"".join(self.vectors), np.uint8).reshape(-1, 16)
        np.save(self.keys_path, keys)
        np.save(self.vectors_path, np.stack(list(self.vectors.values())).astype(np.float32))
        self.saved = len(self.vectors)


class CachedE5(E5Embedding):
    """The bundled e5 embedder, answering passages it has embedded before from a `VectorCache`.

    Questions are always embedded afresh. With `fresh` set, passages are embedded even when cached (and the
    cache is refreshed), to measure a real ingest.
    """

    fresh: bool = False
    _cache: VectorCache | None = PrivateAttr(default=None)
    _embedded: int = PrivateAttr(default=0)
    _hits: int = PrivateAttr(default=0)
    _seconds: float = PrivateAttr(default=0.0)

    def use(self, cache: VectorCache) -> CachedE5:
        """Answer from (and add to) `cache`."""
        self._cache = cache
        return self

    @property
    def stats(self) -> dict[str, float]:
        """Passages embedded for real, passages answered from the cache, and seconds spent embedding."""
        return {"embedded": self._embedded, "cached": self._hits, "embed_seconds": round(self._seconds, 3)}

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        cache = self._cache
        if cache is None:
            return super()._get_text_embeddings(texts)
        keys = [VectorCache.key(text) for text in texts]
        missing = sorted({i for i, key in enumerate(keys) if self.fresh or key not in cache.vectors})
        if missing:
            started = time.perf_counter()
            vectors = self.model.passage([texts[i] for i in missing])
            self._seconds += time.perf_counter() - started
            self._embedded += len(missing)
            for i, vector in zip(missing, vectors, strict=True):
                cache.vectors[keys[i]] = np.asarray(vector, np.float32)
        self._hits += len(texts) - len(missing)
        return [cache.vectors[key].tolist() for key in keys]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]
