"""Ingest speed of web pages and PDFs: pages read per second, next to the pages per second the embedder can take.

    python -m benchmarks.formats [--pages 20] [--sample 256]

The PDF is a two-column A4 newspaper page layout and the web pages are news pages with menus, adverts and
comments (benchmarks/documents.py), both filled with the English seed article's paragraphs. "Embedder" is the
bundled e5 embedding (a sample of) the same pages' sentences (what ingest does after reading), so the last column says which
of the two bounds an ingest of that format.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import unicodedata
from pathlib import Path

from benchmarks.documents import news_page, two_column_pdf
from rag.corpus import Article, read_folder
from rag.embeddings import E5Embedding
from rag.readers import parse_html, read_pdf
from rag.settings import PROJECT_ROOT

LATIN1 = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "—": "-", "–": "-", "…": "..."})


def seed_paragraphs() -> list[str]:
    """The English seed article's paragraphs, in the characters a core PDF font has."""
    articles, _ = read_folder(PROJECT_ROOT / "seeds")
    english = next(a for a in articles if a.lang == "en")
    texts = [unicodedata.normalize("NFKC", p.text).translate(LATIN1) for p in english.paragraphs if p.kind == "paragraph"]
    return [t.encode("latin-1", "replace").decode("latin-1") for t in texts]


def sentences(articles: list[Article]) -> list[str]:
    return [s.text for a in articles for p in a.paragraphs for s in p.sentences]


def main(argv: list[str] | None = None) -> int:
    """Print one row per format: pages, read time, pages/s read, sentences per page, pages/s embedded."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20, help="PDF pages and web pages to read (default 20)")
    parser.add_argument("--sample", type=int, default=256, help="sentences embedded to measure e5's rate (256)")
    args = parser.parse_args(argv)
    paragraphs = seed_paragraphs()
    embedder = E5Embedding()
    embedder.get_text_embedding_batch(["warm up the model"])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        # PDF: one document of about `pages` pages (the seed paragraphs, repeated as needed).
        body: list[str] = []
        while len(body) < 6 * args.pages:
            body += paragraphs
        pdf = two_column_pdf(Path(folder) / "paper.pdf", "Benchmark paper", body[: 6 * args.pages])
        started = time.perf_counter()
        article = read_pdf(pdf, "paper")
        read_pdf_s = time.perf_counter() - started
        pdf_pages = max(p.page or 0 for p in article.paragraphs)
        rows.append(("PDF (two columns)", pdf_pages, read_pdf_s, [article]))
        # Web pages: `pages` news pages of 4 paragraphs each.
        pages = [
            news_page(f"Story {i}", [paragraphs[(4 * i + j) % len(paragraphs)] for j in range(4)]).encode()
            for i in range(args.pages)
        ]
        started = time.perf_counter()
        read = [parse_html(page, f"story-{i}") for i, page in enumerate(pages)]
        rows.append(("HTML (news page)", len(pages), time.perf_counter() - started, read))
    print("| format | pages | read, s | read, pages/s | sentences/page | e5 embedding, pages/s | reading's share of ingest |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, count, seconds, articles in rows:
        texts = sentences(articles)
        sample = texts[: args.sample]
        started = time.perf_counter()
        for start in range(0, len(sample), 64):
            embedder.get_text_embedding_batch(sample[start : start + 64])
        per_page = len(texts) / count
        embed_pages = len(sample) / (time.perf_counter() - started) / per_page
        embed_s = count / embed_pages
        print(
            f"| {name} | {count} | {seconds:.2f} | {count / seconds:.1f} | {per_page:.1f} | "
            f"{embed_pages:.1f} | {seconds / (seconds + embed_s):.0%} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
