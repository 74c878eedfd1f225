"""Chroma, through llama-index's ChromaVectorStore: one record per sentence, one manifest record per article."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import BaseNode, TextNode
from llama_index.core.vector_stores import VectorStoreQuery
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.corpus import Article
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

    def __init__(self, client: Any, embedder: BaseEmbedding, slug: str) -> None:
        self.client = client
        self.embedder = embedder
        space = {"hnsw:space": "cosine"}
        self.sentences = client.get_or_create_collection(f"sentences-{slug}", metadata=space)
        self.articles = client.get_or_create_collection(f"articles-{slug}", metadata=space)
        self.vectors = ChromaVectorStore(chroma_collection=self.sentences)

    def manifest(self) -> dict[str, StoredArticle]:
        """Articles whose sentences are completely stored, by id."""
        got = self.articles.get(include=["metadatas"])
        return {
            id_: StoredArticle(id_, str(m["digest"]), str(m["title"]), str(m["lang"]), int(m["sentences"]))
            for id_, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def records(self, manifest: dict[str, StoredArticle]) -> list[Record]:
        """Every stored sentence of a complete article (leftovers of an interrupted write are ignored)."""
        got = self.sentences.get(include=["documents", "metadatas"])
        records = []
        for id_, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
            stored = manifest.get(str(meta.get("document")))
            if stored is None or stored.digest != meta.get("digest"):
                continue
            records.append(
                Record(
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
            )
        records.sort(key=lambda r: (r.document, r.paragraph, r.sentence))
        return records

    def write(self, article: Article, batch_size: int = 64) -> int:
        """Replace an article's sentences, then mark it complete in the manifest; returns sentences embedded."""
        self.remove(article.id)
        nodes = [
            TextNode(
                id_=f"{paragraph.id}:s{number}",
                text=sentence.text,
                metadata={
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
                },
            )
            for paragraph in article.paragraphs
            for number, sentence in enumerate(paragraph.sentences)
        ]
        vectors: list[list[float]] = []
        for batch in _batches([node.text for node in nodes], batch_size):
            vectors.extend(self.embedder.get_text_embedding_batch(batch))
        for node, vector in zip(nodes, vectors, strict=True):
            node.embedding = vector
        self.vectors.add(list[BaseNode](nodes))
        # The manifest entry is written last: an article without one is incomplete and gets rewritten.
        self.articles.upsert(
            ids=[article.id],
            embeddings=[_mean(vectors)],
            documents=[article.title],
            metadatas=[
                {
                    "digest": article.digest,
                    "title": article.title,
                    "lang": article.lang,
                    "source": article.source,
                    "byline": article.byline,
                    "path": str(article.path),
                    "paragraphs": len(article.paragraphs),
                    "sentences": len(nodes),
                }
            ],
        )
        return len(nodes)

    def remove(self, document: str) -> None:
        """Delete an article: its manifest entry first, so a crash in between leaves it marked incomplete."""
        self.articles.delete(ids=[document])
        self.sentences.delete(where={"document": document})

    def clear(self) -> None:
        """Delete every record, leftovers of interrupted writes included."""
        self.articles.delete(where={"digest": {"$ne": ""}})
        self.sentences.delete(where={"document": {"$ne": ""}})

    def search(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The ids of the `k` sentences nearest to `vector` (matching `where`), with cosine similarity."""
        if k <= 0:
            return []
        query = VectorStoreQuery(query_embedding=list(vector), similarity_top_k=k)
        result = self.vectors.query(query, where=where) if where else self.vectors.query(query)
        # ChromaVectorStore reports exp(-distance); cosine distance is 1 - similarity.
        return [
            (id_, 1.0 + math.log(max(s, 1e-12)))
            for id_, s in zip(result.ids or [], result.similarities or [], strict=True)
        ]


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
