"""Each format answers a figure question with a citation naming its source (and page, for a PDF): in the Python
API, the CLI and the chat page's API; on real Chroma and the real e5 embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.documents import image_only_pdf, news_page, two_column_pdf, word_file
from rag.cli import main
from rag.engine import Engine
from rag.settings import Settings
from tests.conftest import CountingE5
from tests.test_readers import LIBRARY_PARAGRAPHS, NEWS
from ui.app import render_answer

RIVER = ["The river cleanup removed 3,200 tonnes of waste last year, the water bureau said.", "Volunteers gave time."]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one article in each format, and a scanned PDF that cannot be read."""
    folder = tmp_path_factory.mktemp("library")
    two_column_pdf(folder / "libraries.pdf", "Harbor city opens 14 new libraries", LIBRARY_PARAGRAPHS, 20)
    word_file(folder / "river.docx", "River cleanup report", [("Results", RIVER)], author="Water Bureau")
    page = news_page("Tram line opens", NEWS, date="2024-05-12", canonical="https://news.example.org/tram")
    (folder / "tram.html").write_text(page, encoding="utf-8")
    image_only_pdf(folder / "scan.pdf")
    return folder


@pytest.fixture(scope="module")
def formats_engine(library: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), seeds_dir=library, _env_file=None)  # type: ignore[call-arg]
    engine = Engine(settings, embedder=CountingE5())
    report = engine.ingest()
    assert sorted(report.added) == ["libraries", "river", "tram"]
    assert [(s.path.name, s.reason) for s in report.skipped] == [
        ("scan.pdf", "no text layer: OCR is not supported (is it a scan?)")
    ]
    return engine


def test_pdf_answer_cites_its_file_page_and_paragraph_on_the_page(formats_engine: Engine) -> None:
    answer = formats_engine.ask("When will the second phase add 5 more libraries?")
    assert answer.found and "2026" in answer.text
    citation = answer.citations[0]
    assert citation.document == "libraries" and citation.source == "libraries.pdf"
    assert (citation.page, citation.page_paragraph) == (2, 2)
    assert citation.published == ""
    assert "page 2, paragraph 2 · 第2页第2段" in render_answer(answer, turn=1)


def test_word_answer_cites_its_file(formats_engine: Engine) -> None:
    answer = formats_engine.ask("How many tonnes of waste did the river cleanup remove?")
    assert answer.found and "3,200" in answer.text
    citation = answer.citations[0]
    assert (citation.document, citation.source, citation.page) == ("river", "river.docx", None)


def test_web_page_answer_links_to_the_original_with_its_date(formats_engine: Engine) -> None:
    answer = formats_engine.ask("How many passengers did the tram line carry on its first day?")
    assert answer.found and "58,000" in answer.text
    citation = answer.citations[0]
    assert citation.source == "https://news.example.org/tram" and citation.published == "2024-05-12"
    page = render_answer(answer, turn=1)
    assert '<a class="rag-origin" href="https://news.example.org/tram" target="_blank"' in page
    data = answer.to_dict()["citations"][0]
    assert (data["source"], data["published"], data["page"]) == ("https://news.example.org/tram", "2024-05-12", None)


def test_reingesting_costs_nothing(formats_engine: Engine) -> None:
    embedder = formats_engine.embedder
    assert isinstance(embedder, CountingE5)
    before = embedder.texts
    report = formats_engine.ingest()
    assert sorted(report.unchanged) == ["libraries", "river", "tram"] and embedder.texts == before


def test_cli_prints_and_returns_the_source(
    formats_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    formats_engine.close()  # the CLI opens the store in this process
    monkeypatch.setenv("RAG_DATA_DIR", str(formats_engine.settings.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(formats_engine.settings.seeds_dir))
    assert main(["ask", "When will the second phase add 5 more libraries?"]) == 0
    out = capsys.readouterr().out
    assert "page 2, paragraph 2" in out and "libraries.pdf" in out
    assert main(["ask", "How many passengers did the tram line carry on its first day?", "--json"]) == 0
    citation = json.loads(capsys.readouterr().out)["citations"][0]
    assert citation["source"] == "https://news.example.org/tram" and citation["published"] == "2024-05-12"
