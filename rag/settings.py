"""One settings object for the whole project, read from RAG_* environment variables (and .env)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.layout import PROJECT_ROOT, bundled, default_data_dir

__all__ = ["PROJECT_ROOT", "Settings"]


class Settings(BaseSettings):
    """Every knob of the pipeline; built at the entry points (CLI, UI, evals) and passed down."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    seeds_dir: Path = Field(
        default_factory=lambda: bundled("seeds"),
        description="Folder of articles a first start ingests, and `rag ingest` without a path.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where Chroma and the keyword index live (never inside seeds/); ~/.rag-data when installed.",
    )
    embedder: Literal["e5", "openai"] = Field(
        "e5", description="'e5': bundled multilingual-e5-small (offline); 'openai': OpenAI-compatible embeddings API."
    )
    embedding_model: str = Field(
        "text-embedding-3-small", description="Embedding model name when embedder is 'openai'."
    )
    embedding_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible embeddings server; unset = openai_base_url."
    )
    embed_batch_size: int = Field(64, ge=1, description="Texts per embedding call at ingest.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset = embedded store in data_dir."
    )
    chroma_token: SecretStr | None = Field(None, description="Bearer token sent to the Chroma server, if it needs one.")
    top_k: int = Field(3, ge=1, le=20, description="Most paragraphs an answer may cite.")
    candidates: int = Field(
        20, ge=1, le=200, description="Sentences each retriever (dense, keyword) returns for fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    max_file_bytes: int = Field(
        2_000_000,
        ge=1,
        description="Most text one article may hold, in every format: a larger .txt or .md file, or a web page, PDF or "
        "Word file whose text passes this many characters (counted while reading), is skipped at ingest.",
    )
    max_document_bytes: int = Field(
        20_000_000, ge=1, description="Larger web pages, PDFs and Word files (files, uploads or links) are skipped."
    )
    fetch_timeout: float = Field(15.0, gt=0, description="Seconds before fetching a link is given up.")
    allow_loopback_urls: bool = Field(
        False,
        description="Fetch links served from this machine (127.0.0.0/8, ::1), e.g. a local mirror or a test server; "
        "other private addresses are refused regardless.",
    )
    max_question_chars: int = Field(2_000, ge=1, description="Longer questions are refused with a message.")
    llm: Literal["offline", "openai"] = Field(
        "offline", description="'offline': extractive answers; 'openai': an OpenAI-compatible chat model writes them."
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name for the 'openai' backend.")
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp, Ollama); unset = api.openai.com."
    )
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature of the chat model.")
    max_tokens: int = Field(512, ge=16, description="Most tokens the chat model may write per answer.")
    context_tokens: int = Field(
        3_000,
        ge=200,
        description="Most tokens of source text in the chat model's prompt (estimated: a Chinese character is one, "
        "four other characters are one); the best-ranked sources go first and the rest are cut or left out.",
    )
    llm_timeout: float = Field(
        30.0,
        gt=0,
        description="The chat model's whole time per question (calls, retries, waits, stream); then the offline answer.",
    )
    llm_retries: int = Field(2, ge=0, le=10, description="Retries on timeout, 429 and 5xx before falling back offline.")
    host: str = Field("127.0.0.1", description="Address the chat UI binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the chat UI.")
    ui_auth: str | None = Field(None, description="'user:password' to require a login for the chat UI and its API.")
    ui_mcp: bool = Field(
        True, description="Serve the page's ask function as an MCP tool at /gradio_api/mcp/ (off when ui_auth is set)."
    )
    max_upload_bytes: int = Field(2_000_000, ge=1, description="Largest article file the chat UI accepts.")
    max_upload_files: int = Field(
        500,
        ge=1,
        description="Most files one upload of the chat UI adds (Gradio takes up to 1,000); the page says which were left out.",
    )
    max_request_bytes: int = Field(
        1_000_000,
        ge=1_024,
        description="Largest request body the chat page reads (uploads excepted: max_upload_bytes).",
    )
