"""The plain llama-index pipeline, for comparison: VectorStoreIndex over default SentenceSplitter chunks.

Same embedder (e5), same Chroma client; the query engine answers with no LLM (response_mode="no_text"), so a
query costs what its retrieval costs. Chunks are ~1,000 tokens, and e5 takes seconds per chunk on a small
CPU, so above `exact` sizes a chunk's vector is the normalized mean of its sentences' cached e5 vectors: that
changes which chunks it finds, not what a query costs (one question embedding, one Chroma query, node parsing).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import PrivateAttr

from benchmarks.synthetic import CachedE5, VectorCache
from rag.corpus import split_sentences


class PooledE5(CachedE5):
    """e5 for questions; for a chunk, the mean of the cached vectors of its sentences (e5 when none is cached)."""

    _pooled: int = PrivateAttr(default=0)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        cache = self._cache
        assert cache is not None
        out: list[list[float]] = []
        for text in texts:
            found = [
                cache.vectors[key]
                for line in text.splitlines()
                for sentence in split_sentences(line)
                if (key := VectorCache.key(sentence.text)) in cache.vectors
            ]
            if not found:
                out.extend(super()._get_text_embeddings([text]))
                continue
            mean = np.mean(found, axis=0)
            out.append((mean / (np.linalg.norm(mean) or 1.0)).tolist())
            self._pooled += 1
        return out


class LlamaIndexBaseline:
    """VectorStoreIndex over SentenceSplitter chunks of the corpus files, in its own Chroma collection."""

    def __init__(self, corpus: Path, client: Any, vectors: VectorCache, exact: bool, top_k: int = 3) -> None:
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.llms import MockLLM
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.core.response_synthesizers.no_text import NoText
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.exact = exact
        self.embedder = (CachedE5 if exact else PooledE5)(embed_batch_size=16).use(vectors)
        started = time.perf_counter()
        documents = SimpleDirectoryReader(str(corpus), required_exts=[".txt"]).load_data()
        collection = client.get_or_create_collection("baseline-llamaindex", metadata={"hnsw:space": "cosine"})
        store = ChromaVectorStore(chroma_collection=collection)
        self.index = VectorStoreIndex.from_documents(
            documents,
            storage_context=StorageContext.from_defaults(vector_store=store),
            embed_model=self.embedder.as_llama_index(),
            transformations=[SentenceSplitter()],
        )
        self.seconds = time.perf_counter() - started
        self.chunks = collection.count()
        # response_mode="no_text", with the synthesizer built here: as_query_engine would look up a default LLM.
        self.engine = self.index.as_query_engine(
            llm=MockLLM(), response_synthesizer=NoText(llm=MockLLM()), similarity_top_k=top_k
        )
        vectors.save()

    def query(self, question: str) -> list[str]:
        """The ids of the chunks retrieved for `question`."""
        response = self.engine.query(question)
        return [node.node_id for node in response.source_nodes]

    def describe(self) -> dict[str, Any]:
        """What was built, and how its chunk vectors were made."""
        return {
            "chunks": self.chunks,
            "build_s": round(self.seconds, 1),
            "chunk_vectors": "e5 of the chunk" if self.exact else "mean of its sentences' e5 vectors",
            **self.embedder.stats,
        }
