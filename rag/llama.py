"""The engine inside llama-index apps: a retriever of paragraphs and a query engine whose Response cites its nodes.

    from rag import Engine, Settings
    from rag.llama import EngineQueryEngine, EngineRetriever
    engine = Engine(Settings())
    engine.first_start()  # a data directory that never held anything gets the seed articles
    nodes = EngineRetriever(engine).retrieve("How many talents does the city have?")
    response = EngineQueryEngine(engine).query("How many talents does the city have?")
    response.response, response.source_nodes[0].node.metadata["quote"]   # source_nodes[n - 1] is citation [n]

Both wrap an `Engine` (its settings, store and answerer); neither reads llama-index's global `Settings`.
Importing this module imports llama-index (about 2 s), so `rag` itself does not.
"""

from __future__ import annotations

from dataclasses import asdict

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.answer import Answer, Citation
from rag.engine import Engine


class EngineRetriever(BaseRetriever):
    """The engine's hybrid search (dense + BM25, across languages) as llama-index nodes, one per paragraph."""

    def __init__(self, engine: Engine, top_k: int | None = None, callback_manager: CallbackManager | None = None):
        super().__init__(callback_manager=callback_manager)
        self.engine = engine
        self.top_k = top_k or 2 * engine.settings.top_k  # as many paragraphs as the engine hands a chat model

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """The `top_k` best paragraphs, each scored by its best sentence's fused rank score."""
        _, hits = self.engine.search(query_bundle.query_str)
        paragraphs = self.engine.index.paragraphs
        nodes: dict[str, NodeWithScore] = {}
        for hit in hits:  # best first: a paragraph's first hit is its best sentence
            record = hit.record
            if record.paragraph_id in nodes:
                continue
            metadata = {
                "document": record.document,
                "title": record.title,
                "paragraph": record.paragraph,
                "lang": record.lang,
                "sentence": record.text,
            }
            node = TextNode(id_=record.paragraph_id, text=paragraphs[record.paragraph_id], metadata=metadata)
            nodes[record.paragraph_id] = NodeWithScore(node=node, score=hit.score)
            if len(nodes) == self.top_k:
                break
        return list(nodes.values())


class EngineQueryEngine(BaseQueryEngine):
    """`Engine.ask` as a llama-index query engine: the answer's text with [n] markers, and source node n - 1 for
    citation [n] (none when the articles do not say)."""

    def __init__(self, engine: Engine, llm: str | None = None, callback_manager: CallbackManager | None = None):
        super().__init__(callback_manager=callback_manager)
        self.engine = engine
        self.llm = llm  # "offline" or "openai"; None: the engine's settings decide

    def _query(self, query_bundle: QueryBundle) -> Response:
        return response(self.engine.ask(query_bundle.query_str, llm=self.llm))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return self._query(query_bundle)

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """The paragraphs the engine would answer from (see `EngineRetriever`)."""
        return EngineRetriever(self.engine, callback_manager=self.callback_manager).retrieve(query_bundle)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}  # the prompts are the files in prompts/, read by the engine


def response(answer: Answer) -> Response:
    """A llama-index Response of an answer: its text, one source node per citation, and the rest as metadata."""
    extra = {"found": answer.found, "backend": answer.backend, "warnings": answer.warnings, "read_as": answer.read_as}
    return Response(response=answer.text, source_nodes=[_node(c) for c in answer.citations], metadata=extra)


def _node(citation: Citation) -> NodeWithScore:
    metadata = {k: v for k, v in asdict(citation).items() if k not in ("text", "score") and v is not None}
    node = TextNode(id_=f"{citation.document}:p{citation.paragraph}", text=citation.text, metadata=metadata)
    return NodeWithScore(node=node, score=citation.score)
