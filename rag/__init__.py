"""Cited question answering over news articles, offline by default.

from rag import ask
answer = ask("How many talents does the city have?")
print(answer.text, answer.citations[0].quote)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer import NOT_FOUND, Answer, Citation

if TYPE_CHECKING:
    from rag.engine import Engine, IngestReport
    from rag.settings import Settings

__all__ = ["NOT_FOUND", "Answer", "Citation", "Engine", "Settings", "ask", "default_engine", "ingest"]

_engine: Engine | None = None
_engine_lock = threading.Lock()


def default_engine() -> Engine:
    """The process-wide engine built from the environment's settings (created on first use)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from rag.engine import Engine
            from rag.settings import Settings

            _engine = Engine(Settings())
        return _engine


def ask(question: str, history: list[tuple[str, str]] | None = None) -> Answer:
    """Answer a question about the articles, with numbered citations (see `Answer`).

    `history` holds earlier (question, answer) turns; a follow-up (them, there, 其中 …) is read in their light.
    """
    engine = default_engine()
    engine.first_start()  # a data directory that never held anything gets the seed articles, and says so
    return engine.ask(question, history=history)


def ingest(path: str | Path | None = None) -> IngestReport:
    """Ingest the articles in `path` (default: the seeds folder) into the store."""
    return default_engine().ingest(Path(path) if path else None)


def __getattr__(name: str) -> object:
    # Engine and Settings pull in llama-index and pydantic-settings; import them only when asked for.
    if name == "Engine":
        from rag.engine import Engine

        return Engine
    if name == "Settings":
        from rag.settings import Settings

        return Settings
    raise AttributeError(name)
