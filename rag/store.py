"""Chroma: one record per sentence (with its search terms), one manifest record per article.

Records are written and queried through the chromadb collection itself rather than llama-index's
ChromaVectorStore, whose node JSON doubled every record's metadata: adds ran 40% slower, reads 2.5x.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.embeddings import BaseEmbedding

from rag.corpus import Article
from rag.keyword import TOKENIZER, tokenize
from rag.settings import Settings

Progress = Callable[[int, int, str], None]  # (done, total, what) after each article


@dataclass(frozen=True)
class Record:
    """A stored sentence, with what is needed to cite its paragraph."""

    id: str
    text: str
    document: str
    title: str
    lang: str
    paragraph: int
    paragraph_id: str
    kind: str
    sentence: int
    start: int
    end: int


@dataclass(frozen=True)
class StoredArticle:
    """The manifest entry of an article whose sentences are all stored."""

    id: str
    digest: str
    title: str
    lang: str
    sentences: int


@dataclass(frozen=True)
class Sentences:
    """Stored sentences of complete articles, each with its search terms when they were stored with this tokenizer."""

    records: list[Record]
    terms: list[list[str] | None]
    articles: dict[str, StoredArticle]  # the articles all of whose sentences are in `records`


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message names the cure."""


def open_client(settings: Settings) -> Any:
    """A Chroma client: HTTP when a server URL is configured, else embedded in the data directory."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        match = re.match(r"^(https?)://([^:/]+)(?::(\d+))?", settings.chroma_url)
        if not match:
            raise StoreError(f"RAG_CHROMA_URL must look like http://host:8000, not {settings.chroma_url!r}")
        headers = {}
        if settings.chroma_token:
            headers["Authorization"] = f"Bearer {settings.chroma_token.get_secret_value()}"
        return chromadb.HttpClient(
            host=match.group(2),
            port=int(match.group(3) or (443 if match.group(1) == "https" else 8000)),
            ssl=match.group(1) == "https",
            headers=headers,
            settings=chroma_settings,
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)


class Store:
    """The sentences of all articles with their vectors, and a manifest of complete articles."""

    page = 2000  # records per read or write request: under Chroma's batch limit and a server's 40 MB payload limit

    def __init__(self, client: Any, embedder: BaseEmbedding, slug: str) -> None:
        self.client = client
        self.embedder = embedder
        self.slug = slug
        space = {"hnsw:space": "cosine"}
        self.sentences = client.get_or_create_collection(f"sentences-{slug}", metadata=space)
        self.articles = client.get_or_create_collection(f"articles-{slug}", metadata=space)

    def manifest(self) -> dict[str, StoredArticle]:
        """Articles whose sentences are completely stored, by id."""
        got = self.articles.get(include=["metadatas"])
        return {
            id_: StoredArticle(id_, str(m["digest"]), str(m["title"]), str(m["lang"]), int(m["sentences"]))
            for id_, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def read(self, manifest: dict[str, StoredArticle], documents: Sequence[str] | None = None) -> Sentences:
        """The stored sentences of the complete articles among `documents` (default: all), in reading order.

        Leftovers of an interrupted write are ignored, and an article caught half-replaced by another writer
        is left out of `articles` (its sentence count does not match its manifest entry).
        """
        wanted = sorted(manifest if documents is None else set(documents) & set(manifest))
        seen: dict[str, tuple[Record, list[str] | None]] = {}
        for got in self._pages(None if documents is None else wanted):
            for id_, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                stored = manifest.get(str(meta.get("document")))
                if stored is None or stored.digest != meta.get("digest"):
                    continue
                terms = str(meta["terms"]).split() if meta.get("tokenizer") == TOKENIZER else None
                seen[id_] = (_record(id_, str(text), meta), terms)
        rows = sorted(seen.values(), key=lambda row: (row[0].document, row[0].paragraph, row[0].sentence))
        counts: dict[str, int] = {}
        for record, _ in rows:
            counts[record.document] = counts.get(record.document, 0) + 1
        complete = {d: manifest[d] for d in wanted if counts.get(d, 0) == manifest[d].sentences}
        rows = [row for row in rows if row[0].document in complete]
        return Sentences([record for record, _ in rows], [terms for _, terms in rows], complete)

    def _pages(self, documents: list[str] | None) -> Iterable[Any]:
        if documents is None:
            for offset in range(0, self.sentences.count(), self.page):
                yield self.sentences.get(include=["documents", "metadatas"], limit=self.page, offset=offset)
            return
        for batch in _batches(documents, 100):
            where = {"document": {"$in": batch}} if len(batch) > 1 else {"document": batch[0]}
            yield self.sentences.get(where=where, include=["documents", "metadatas"])  # type: ignore[dict-item]

    def records(self, manifest: dict[str, StoredArticle]) -> list[Record]:
        """Every stored sentence of a complete article (leftovers of an interrupted write are ignored)."""
        return self.read(manifest).records

    def write(self, articles: Article | Sequence[Article], batch_size: int = 64) -> int:
        """Replace articles' sentences, then mark them complete in the manifest; returns sentences embedded."""
        articles = [articles] if isinstance(articles, Article) else list(articles)
        if not articles:
            return 0
        self._remove([article.id for article in articles])
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, str | int]] = []
        for article in articles:
            for paragraph in article.paragraphs:
                for number, sentence in enumerate(paragraph.sentences):
                    ids.append(f"{paragraph.id}:s{number}")
                    texts.append(sentence.text)
                    metadatas.append(
                        {
                            "document": article.id,
                            "title": article.title,
                            "lang": article.lang,
                            "paragraph": paragraph.number,
                            "paragraph_id": paragraph.id,
                            "kind": paragraph.kind,
                            "sentence": number,
                            "start": sentence.start,
                            "end": sentence.end,
                            "digest": article.digest,
                            # Cut once here, so no reader (in this process or another) runs jieba over it again.
                            "terms": " ".join(tokenize(sentence.text)),
                            "tokenizer": TOKENIZER,
                        }
                    )
        vectors: list[list[float]] = []
        for batch in _batches(texts, batch_size):
            vectors.extend(self.embedder.get_text_embedding_batch(batch))
        for start in range(0, len(ids), self.page):
            end = start + self.page
            self.sentences.add(
                ids=ids[start:end],
                embeddings=vectors[start:end],
                documents=texts[start:end],
                metadatas=metadatas[start:end],  # type: ignore[arg-type]
            )
        # The manifest entries are written last: an article without one is incomplete and gets rewritten.
        first = 0
        means: list[list[float]] = []
        for article in articles:
            count = sum(len(paragraph.sentences) for paragraph in article.paragraphs)
            means.append(_mean(vectors[first : first + count]))
            first += count
        self.articles.upsert(
            ids=[article.id for article in articles],
            embeddings=means,  # type: ignore[arg-type]
            documents=[article.title for article in articles],
            metadatas=[
                {
                    "digest": article.digest,
                    "title": article.title,
                    "lang": article.lang,
                    "source": article.source,
                    "byline": article.byline,
                    "path": str(article.path),
                    "paragraphs": len(article.paragraphs),
                    "sentences": sum(len(paragraph.sentences) for paragraph in article.paragraphs),
                }
                for article in articles
            ],
        )
        return len(ids)

    def remove(self, document: str) -> None:
        """Delete an article: its manifest entry first, so a crash in between leaves it marked incomplete."""
        self._remove([document])

    def _remove(self, documents: list[str]) -> None:
        self.articles.delete(ids=documents)
        for batch in _batches(documents, 100):
            self.sentences.delete(where={"document": {"$in": batch}} if len(batch) > 1 else {"document": batch[0]})  # type: ignore[dict-item]

    def clear(self) -> None:
        """Delete every record, leftovers of interrupted writes included."""
        self.articles.delete(where={"digest": {"$ne": ""}})
        self.sentences.delete(where={"document": {"$ne": ""}})

    def search(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The ids of the `k` sentences nearest to `vector` (matching `where`), with cosine similarity."""
        if k <= 0:
            return []
        result = self.sentences.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        # Cosine distance is 1 - similarity.
        return [(id_, 1.0 - d) for id_, d in zip(result["ids"][0], (result["distances"] or [[]])[0], strict=True)]


def _record(id_: str, text: str, meta: Any) -> Record:
    return Record(
        id=id_,
        text=text,
        document=str(meta["document"]),
        title=str(meta["title"]),
        lang=str(meta["lang"]),
        paragraph=int(meta["paragraph"]),
        paragraph_id=str(meta["paragraph_id"]),
        kind=str(meta["kind"]),
        sentence=int(meta["sentence"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
    )


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _mean(vectors: list[list[float]]) -> list[float]:
    import numpy as np

    if not vectors:
        return [0.0]
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean)) or 1.0
    return (mean / norm).tolist()  # type: ignore[no-any-return]
