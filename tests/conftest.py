"""Shared fixtures: real settings in a temp dir, the real bundled embedder, the real seed articles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import PrivateAttr

from rag.embeddings import E5Embedding
from rag.engine import Engine
from rag.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"


class CountingE5(E5Embedding):
    """The real e5 embedder, counting how many texts it embeds (so tests can assert work was skipped)."""

    _texts: int = PrivateAttr(default=0)
    _queries: int = PrivateAttr(default=0)

    @property
    def texts(self) -> int:
        return self._texts

    @property
    def queries(self) -> int:
        return self._queries

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self._texts += len(texts)
        return super()._get_text_embeddings(texts)

    def _get_query_embedding(self, query: str) -> list[float]:
        self._queries += 1
        return super()._get_query_embedding(query)


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the seed articles, so tests may add to it without touching the repo."""
    folder = tmp_path_factory.mktemp("seeds")
    for path in SEEDS.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Settings:
    """Settings with the store in a temp dir and the seeds copy as the corpus."""
    return Settings(data_dir=tmp_path_factory.mktemp("data"), seeds_dir=seeds_dir, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    """An engine over the seed articles, ingested once for the whole session (read-only in tests)."""
    engine = Engine(settings, embedder=CountingE5())
    engine.ingest()
    return engine


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    """Settings with an empty store and an empty articles folder of the test's own."""
    articles = tmp_path / "articles"
    articles.mkdir()
    return Settings(data_dir=tmp_path / "data", seeds_dir=articles, _env_file=None)  # type: ignore[call-arg]
