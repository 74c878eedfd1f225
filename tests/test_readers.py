"""Web pages, PDFs and Word files, made here with real libraries and read into articles; bad ones skipped with one line."""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

import pytest

from benchmarks.documents import encrypted_pdf, image_only_pdf, news_page, two_column_pdf, word_file
from rag.corpus import ArticleError, read_folder
from rag.readers import parse_html, read_docx, read_pdf

LIBRARY_PARAGRAPHS = [
    "The harbor city opened 14 new public libraries this spring, the culture bureau said on Sunday. The "
    "libraries hold 820,000 books in total and are open every day of the week, including public holidays.",
    "Each library has a reading room for children, and 6 of them have a maker space with printers. The city "
    "hired librarians from 9 universities for the new branches, whose combined floor area is about 48,000 "
    "square metres, according to the bureau's annual report. " * 3,
    "Construction cost 95 million yuan, paid by the city and two private foundations, the bureau said. "
    "Administrators expect extraordinarily high attendance during the summer holidays. " * 4,
    "Opening hours run from 8 am to 9 pm, and 3 branches stay open until midnight on weekends. " * 3,
    "A second phase will add 5 more libraries by 2026, the bureau said in its statement.",
]
NEWS = [
    "The new tram line carried 58,000 passengers on its first day, the transport authority said on Monday.",
    "The line runs 23 kilometres from the railway station to the university and has 31 stops.",
    "Officials said trams will run every 6 minutes at rush hour from next month.",
]


def pdf_article(tmp_path: Path) -> Path:
    return two_column_pdf(tmp_path / "libraries.pdf", "Harbor city opens 14 new libraries", LIBRARY_PARAGRAPHS, 20)


def test_two_column_pdf_is_read_column_by_column_with_pages(tmp_path: Path) -> None:
    article = read_pdf(pdf_article(tmp_path), "libraries")
    paragraphs = [p for p in article.paragraphs if p.kind == "paragraph"]
    texts = [p.text for p in paragraphs]
    # Each paragraph comes back whole, in order: lines of the two columns are not interleaved, hyphenated
    # words are mended, and a paragraph running on into the next column or page is one paragraph.
    assert texts == [" ".join(p.split()) for p in LIBRARY_PARAGRAPHS]
    assert article.title == "Harbor city opens 14 new libraries"
    assert article.paragraphs[0].kind == "heading" and article.paragraphs[0].page == 1
    assert [p.page for p in paragraphs] == [1, 1, 1, 2, 2]
    assert not any(p.text.isdigit() for p in article.paragraphs)  # page numbers are not paragraphs


def test_pdf_digest_follows_content(tmp_path: Path) -> None:
    first = read_pdf(pdf_article(tmp_path), "libraries")
    assert read_pdf(pdf_article(tmp_path), "libraries").digest == first.digest
    changed = two_column_pdf(
        tmp_path / "changed.pdf", "Harbor city opens 14 new libraries", LIBRARY_PARAGRAPHS[:-1], 30
    )
    assert read_pdf(changed, "libraries").digest != first.digest


def test_news_page_keeps_the_article_and_leaves_the_rest_out() -> None:
    page = news_page(
        "Tram line opens", NEWS, author="Mei Lin", date="2024-05-12", canonical="https://news.example.org/tram"
    )
    article = parse_html(page.encode(), "tram")
    text = " ".join(p.text for p in article.paragraphs)
    for sentence in NEWS:
        assert sentence in text
    for boilerplate in ("Subscribe", "Win a car", "Museum reopens", "Great news", "All rights reserved", "Sport"):
        assert boilerplate not in text
    assert article.title == "Tram line opens"
    assert article.byline == "Mei Lin" and article.published == "2024-05-12"
    assert article.url == "https://news.example.org/tram" and article.source == "The Coastal Times"
    assert [p.kind for p in article.paragraphs] == ["heading", "paragraph", "paragraph", "paragraph"]


def test_link_given_wins_over_the_canonical_address_and_only_web_addresses_are_kept() -> None:
    page = news_page("Tram line opens", NEWS, canonical="javascript:alert(1)").encode()
    assert parse_html(page, "tram").url == ""
    assert parse_html(page, "tram", url="http://127.0.0.1:8000/tram").url == "http://127.0.0.1:8000/tram"


def test_word_file_paragraphs_and_headings(tmp_path: Path) -> None:
    path = word_file(
        tmp_path / "river.docx",
        "River cleanup report",
        [("Results", ["The river cleanup removed 3,200 tonnes of waste last year.", "Volunteers gave 41,000 hours."]),
         ("Next steps", ["The city will fund 12 more cleanup days in 2025."])],
        author="Water Bureau",
    )  # fmt: skip
    article = read_docx(path, "river")
    assert [(p.kind, p.text) for p in article.paragraphs] == [
        ("heading", "River cleanup report"),
        ("heading", "Results"),
        ("paragraph", "The river cleanup removed 3,200 tonnes of waste last year."),
        ("paragraph", "Volunteers gave 41,000 hours."),
        ("heading", "Next steps"),
        ("paragraph", "The city will fund 12 more cleanup days in 2025."),
    ]
    assert article.title == "River cleanup report" and article.byline == "Water Bureau"


def zip_bomb(path: Path) -> Path:
    """A .docx whose document.xml unpacks to 200 MB from a few hundred kilobytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"<w:p/>" * 1_000_000
            for _ in range(34):
                member.write(chunk)
    return path


def test_bad_files_are_skipped_with_one_line_and_the_good_ones_read(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    pdf_article(folder)
    (folder / "tram.html").write_text(news_page("Tram line opens", NEWS), encoding="utf-8")
    word_file(folder / "river.docx", "River", [("", ["The river cleanup removed 3,200 tonnes of waste."])])
    image_only_pdf(folder / "scan.pdf")
    encrypted_pdf(folder / "locked.pdf", NEWS)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntruncated")
    (folder / "menu.html").write_text(
        "<html><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav><ul><li><a href='/a'>Story one</a></li>"
        "<li><a href='/b'>Story two</a></li></ul></body></html>",
        encoding="utf-8",
    )
    (folder / "garbage.html").write_bytes(b"\x00\x01\x02\x03 not a page")
    zip_bomb(folder / "bomb.docx")
    (folder / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0 an old Word 97 file")
    articles, skipped = read_folder(folder)
    assert sorted(a.id for a in articles) == ["libraries", "river", "tram"]
    reasons = {s.path.name: s.reason for s in skipped}
    assert reasons["scan.pdf"].startswith("no text layer: OCR is not supported")
    assert "encrypted" in reasons["locked.pdf"]
    assert "not a readable PDF" in reasons["broken.pdf"]
    assert "not an article" in reasons["menu.html"]
    assert "binary" in reasons["garbage.html"]
    assert "zip bomb" in reasons["bomb.docx"]
    assert "not a Word .docx file" in reasons["old.docx"]
    assert all("\n" not in reason for reason in reasons.values())


def test_a_document_over_its_limit_is_skipped_before_it_is_read(tmp_path: Path) -> None:
    pdf_article(tmp_path)
    articles, skipped = read_folder(tmp_path, document_bytes=1_000)
    assert articles == [] and "over the 1,000-byte limit" in skipped[0].reason


def test_a_missing_extra_is_a_one_line_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf_article(tmp_path)
    monkeypatch.setitem(sys.modules, "pdfminer", None)  # as if the package were not installed
    _, skipped = read_folder(tmp_path)
    assert skipped[0].reason == "reading PDF files needs the 'formats' extra: pip install 'rag[formats]'"
    with pytest.raises(ArticleError, match="formats"):
        read_pdf(tmp_path / "libraries.pdf", "libraries")


def test_one_file_can_be_read_on_its_own(tmp_path: Path) -> None:
    path = word_file(tmp_path / "river.docx", "River", [("", ["The river cleanup removed 3,200 tonnes of waste."])])
    (tmp_path / "other.txt").write_text("Another article. It has 3 lines.", encoding="utf-8")
    articles, skipped = read_folder(path)
    assert [a.id for a in articles] == ["river"] and skipped == []


def self_referring_pdf(path: Path) -> Path:
    """A 454-byte PDF whose content stream's /Length is a reference to that same object: pdfminer, resolving it,
    reads the object again and again until RecursionError."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length 4 0 R >>\nstream\nBT /F1 12 Tf 72 720 Td (Hello) Tj ET\nendstream",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


def test_a_pdf_that_makes_the_parser_recurse_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    self_referring_pdf(tmp_path / "loop.pdf")
    (tmp_path / "good.txt").write_text("The port handled 4,200 ships last year.", encoding="utf-8")
    articles, skipped = read_folder(tmp_path)
    assert [a.id for a in articles] == ["good"]
    assert [(s.path.name, s.reason) for s in skipped] == [("loop.pdf", "it is not a readable PDF (RecursionError)")]
    _, skipped = read_folder(tmp_path / "loop.pdf")  # one file, as `rag ingest FILE` and an upload read it
    assert skipped[0].reason == "it is not a readable PDF (RecursionError)"


def test_no_format_yields_more_text_than_the_cap(tmp_path: Path) -> None:
    pdf_article(tmp_path)
    (tmp_path / "tram.html").write_text(news_page("Tram line opens", NEWS), encoding="utf-8")
    word_file(tmp_path / "river.docx", "River", [("", ["The river cleanup removed 3,200 tonnes of waste. " * 40])])
    articles, _ = read_folder(tmp_path)
    assert len(articles) == 3 and all(sum(len(p.text) for p in a.paragraphs) > 200 for a in articles)
    # The same files with a cap under their text: each is skipped, its reading stopped where the cap was passed.
    articles, skipped = read_folder(tmp_path, max_bytes=200)
    assert articles == [] and len(skipped) == 3
    assert {s.reason for s in skipped} == {
        "its text is over the 200-character limit (RAG_MAX_FILE_BYTES); split it into smaller files"
    }


def test_a_word_file_of_endless_text_is_stopped_at_the_cap_while_streaming(tmp_path: Path) -> None:
    # 8 MB of varied text (within the zip-bomb ratio): counted as it is unpacked, never parsed whole.
    words = [f"w{n:x}" for n in range(200_000)]
    paragraph = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"
    body = "".join(paragraph.format(" ".join(words[i : i + 50])) for i in range(0, len(words), 50)) * 6
    path = tmp_path / "endless.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            + body
            + "</w:body></w:document>",
        )
    started = time.monotonic()
    _, skipped = read_folder(path)
    assert skipped[0].reason.startswith("its text is over the 2,000,000-character limit")
    assert time.monotonic() - started < 10
