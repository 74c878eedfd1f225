"""Article files as people have them, made here for the tests and the formats benchmark: a two-column PDF
(fpdf2), a Word file (python-docx) and a news web page with navigation, adverts and comments around the article."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

PAGE_WIDTH, PAGE_HEIGHT = 595.0, 842.0  # A4 in points
MARGIN, GUTTER, LEADING = 50.0, 24.0, 13.0
COLUMN_CHARS = 44  # Helvetica 10 pt in a 235-point column


def wrap(text: str, width: int = COLUMN_CHARS) -> list[str]:
    """Lines of at most `width` characters; a long word that does not fit is hyphenated, as newspapers do."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        room = width - len(line) - (1 if line else 0)
        if len(word) <= room:
            line = f"{line} {word}" if line else word
            continue
        if len(word) >= 8 and room >= 4 and word.isalpha():
            cut = room - 1
            lines.append(f"{line} {word[:cut]}-" if line else f"{word[:cut]}-")
            line = word[cut:]
            continue
        lines.append(line)
        line = word
    return [*lines, line] if line else lines


def two_column_pdf(path: Path, title: str, paragraphs: Sequence[str], lines_per_column: int = 40) -> Path:
    """A PDF of A4 pages: the title across the top of the first page, then the paragraphs in two columns, each
    paragraph's first line indented, hyphenated at line ends, paragraphs running on across columns and pages,
    and the page number at the foot of each page."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    lines: list[tuple[str, bool]] = []  # (text, first line of a paragraph)
    for paragraph in paragraphs:
        lines += [(line, i == 0) for i, line in enumerate(wrap(paragraph))]
    column_width = (PAGE_WIDTH - 2 * MARGIN - GUTTER) / 2
    page = 0
    while lines or page == 0:
        pdf.add_page()
        page += 1
        top = MARGIN + 20
        if page == 1:
            pdf.set_font("Helvetica", "B", 18)
            pdf.text(MARGIN, MARGIN + 20, title)
            top = MARGIN + 60
        pdf.set_font("Helvetica", "", 10)
        for column in range(2):
            x = MARGIN + column * (column_width + GUTTER)
            for row in range(min(lines_per_column, int((PAGE_HEIGHT - MARGIN - 40 - top) / LEADING))):
                if not lines:
                    break
                text, first = lines.pop(0)
                pdf.text(x + (12 if first else 0), top + row * LEADING, text)
        pdf.text(PAGE_WIDTH / 2, PAGE_HEIGHT - 30, str(page))
    pdf.output(str(path))
    return path


def image_only_pdf(path: Path) -> Path:
    """A PDF whose page is a drawing with no text layer, as a scan is."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="pt")
    pdf.add_page()
    for i in range(40):
        pdf.line(MARGIN, MARGIN + 10 * i, PAGE_WIDTH - MARGIN, MARGIN + 10 * i + 5)
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path, paragraphs: Sequence[str]) -> Path:
    """A PDF that needs a password to open."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="pt")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)
    for i, paragraph in enumerate(paragraphs):
        pdf.text(MARGIN, MARGIN + 20 * (i + 1), paragraph[:80])
    pdf.output(str(path))
    return path


def word_file(path: Path, title: str, sections: Sequence[tuple[str, Sequence[str]]], author: str = "") -> Path:
    """A .docx: a title, then each section's heading and paragraphs."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.add_heading(title, level=0)
    for heading, paragraphs in sections:
        if heading:
            document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    document.save(str(path))
    return path


def news_page(
    title: str,
    paragraphs: Sequence[str],
    author: str = "Staff reporter",
    date: str = "2024-05-12",
    canonical: str = "",
    site: str = "The Coastal Times",
) -> str:
    """A news web page: menus, adverts, related links and reader comments around the article."""
    e = html.escape
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{e(canonical)}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(title)} | {e(site)}</title>{link}
<meta name="author" content="{e(author)}">
<meta property="article:published_time" content="{e(date)}T08:00:00Z">
<meta property="og:site_name" content="{e(site)}">
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/subscribe">Subscribe for 1 dollar a week</a></li></ul></nav></header>
<div class="ad banner"><a href="/ad">Win a car! Only 99 tickets left, buy before Friday.</a></div>
<main><article>
<h1>{e(title)}</h1>
<p class="byline">By {e(author)}</p>
{body}
</article>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/a">Museum reopens after 2 years</a></li>
<li><a href="/b">City budget rises 7 percent</a></li><li><a href="/c">Ferry fares to rise in June</a></li></ul></aside>
<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Great news, I will go there with my 4 kids every weekend!</p></div></section>
</main>
<footer><p>Copyright 2024 {e(site)}. All rights reserved. Call 555-0100 to advertise with us.</p></footer>
</body></html>
"""
