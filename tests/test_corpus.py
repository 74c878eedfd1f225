"""Paragraph rebuilding, sentence splitting and file reading, on the real seed articles and on bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import GLYPHS, ArticleError, parse_article, read_article, read_folder, split_sentences, strip_glyphs
from tests.conftest import SEEDS

EN = SEEDS / "suzhou-organizational-work-en.txt"
ZH = SEEDS / "suzhou-high-tech-zone-zh.txt"


def paragraph_with(article, fragment):  # type: ignore[no-untyped-def]
    matches = [p for p in article.paragraphs if fragment in p.text]
    assert len(matches) == 1, f"{fragment!r} is in {len(matches)} paragraphs"
    return matches[0]


def test_english_line_broken_mid_sentence_is_one_paragraph() -> None:
    article = read_article(EN)
    paragraph = paragraph_with(article, "The most solid force behind the development of is supported")
    assert paragraph.kind == "paragraph"
    assert (
        paragraph.sentences[0].text
        == "The most solid force behind the development of is supported at the grassroots level."
    )


def test_chinese_paragraph_resumes_after_caption() -> None:
    article = read_article(ZH)
    paragraph = paragraph_with(article, "艰苦奋斗的创业历程、如磐坚定的初心使命")
    caption = paragraph_with(article, "苏州纽迈分析仪器股份有限公司总经理杨培强(中)在企业指导工作。")
    assert caption.kind == "caption"
    assert caption.number == paragraph.number + 1  # reading order: the paragraph starts before the caption
    assert "杨培强(中)" not in paragraph.text


def test_chinese_paragraph_resumes_after_heading_and_across_blocks() -> None:
    article = read_article(ZH)
    assert paragraph_with(article, "2013年，杨培强主持并带领10家合作单位").kind == "paragraph"
    assert paragraph_with(article, "等入选，成为党史学习教育实践基地").kind == "paragraph"
    assert paragraph_with(article, "保障和改善民生104项").kind == "paragraph"
    heading = paragraph_with(article, "百家院所同创新 持续激发科技创新活力")
    assert heading.kind == "heading"


def test_kinds_and_numbering() -> None:
    for path in (EN, ZH):
        article = read_article(path)
        assert [p.number for p in article.paragraphs] == list(range(1, len(article.paragraphs) + 1))
        assert {p.kind for p in article.paragraphs} <= {"paragraph", "heading", "caption", "byline"}
    en = read_article(EN)
    assert paragraph_with(en, "[Case Story]").kind == "heading"
    assert paragraph_with(en, "(Su Daily reporter Zhu Qi and Lu Feilong)").kind == "byline"
    assert paragraph_with(en, "3.43 million talents").number == 8
    zh = read_article(ZH)
    repeated = [p for p in zh.paragraphs if p.text == "苏州科技城大院大所党建联盟 正式启动"]
    assert len(repeated) == 2 and all(p.kind == "caption" for p in repeated)


def test_metadata_from_front_matter() -> None:
    en, zh = read_article(EN), read_article(ZH)
    assert (en.id, en.lang, en.title) == (
        "suzhou-organizational-work-en",
        "en",
        "Cultivate organizational advantages and gather strength to forge ahead",
    )
    assert (zh.lang, zh.source) == ("zh", "新华日报")
    assert not any("title:" in p.text for p in en.paragraphs)


def test_ids_are_stable_and_follow_content() -> None:
    first, second = read_article(EN), read_article(EN)
    assert [p.id for p in first.paragraphs] == [p.id for p in second.paragraphs]
    assert first.digest == second.digest
    edited = parse_article(EN.read_text().replace("3.43 million", "3.44 million"), first.id)
    changed = [a.id for a, b in zip(first.paragraphs, edited.paragraphs, strict=True) if a.id != b.id]
    assert len(changed) == 2  # the two paragraphs that state the figure
    assert edited.digest != first.digest


def test_every_sentence_is_verbatim_in_its_paragraph() -> None:
    for path in (EN, ZH):
        for paragraph in read_article(path).paragraphs:
            for sentence in paragraph.sentences:
                assert paragraph.text[sentence.start : sentence.end] == sentence.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("At present, the city has about 3.43 million talents. 361 people applied.", 2),
        ("He founded Suzhou Nawei Technology Co., Ltd. in Suzhou Industrial Park. It grew.", 2),
        ('the "traffic pool" of Suzhou talents.The Suzhou International Elite Week', 2),
        ("截至目前，苏州高新区已累计集聚各类人才26万人。其中，高层次人才3.6万人。", 2),
        ("“人才驱动创新，创新决胜未来。苏州高新区始终围绕创新驱动。”张瑛表示。", 2),
        ("要突出深度学习，让理论学习有滋有味；要突出担当作为。", 2),
        ("The U.S. and Japan held 15% of it.", 1),
    ],
)
def test_sentence_split(text: str, expected: int) -> None:
    sentences = split_sentences(text)
    assert len(sentences) == expected, [s.text for s in sentences]
    assert "".join(s.text for s in sentences).replace(" ", "") == text.replace(" ", "")


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", b"A fine article. It has 12 paragraphs.")
    write(tmp_path, "gbk.txt", "苏州高新区已累计集聚各类人才26万人。".encode("gbk"))
    write(tmp_path, "binary.txt", b"\x00\x01\x02PNG")
    write(tmp_path, "empty.md", b"   \n\n ")
    write(tmp_path, "photo.png", b"\x89PNG")
    write(tmp_path, "utf16.txt", "苏州高新区已累计集聚各类人才26万人。".encode("utf-16"))
    articles, skipped = read_folder(tmp_path)
    assert sorted(a.id for a in articles) == ["good", "utf16"]
    assert "26万" in articles[1].paragraphs[0].text  # UTF-16 with a BOM is decoded, not mojibake
    reasons = {s.path.name: s.reason for s in skipped}
    assert "not UTF-8" in reasons["gbk.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "no text" in reasons["empty.md"]
    assert ".txt, .md, .html, .htm, .pdf, .docx files are read" in reasons["photo.png"]


def test_oversized_file_and_outside_link(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder, "big.txt", b"Word. " * 1000)
    outside = write(tmp_path, "secret.txt", b"Outside the folder. 42 secrets.")
    (folder / "link.txt").symlink_to(outside)
    articles, skipped = read_folder(folder, max_bytes=1000)
    assert articles == []
    reasons = {s.path.name: s.reason for s in skipped}
    assert "over the 1,000-byte limit" in reasons["big.txt"]
    assert "outside" in reasons["link.txt"]


def test_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_folder(tmp_path / "nowhere")


def test_bad_front_matter_is_an_article_error() -> None:
    with pytest.raises(ArticleError, match="front matter"):
        parse_article("---\ntitle: [unclosed\n---\nBody text. 3 figures.", "x")


def alias_bomb() -> str:
    """A "billion laughs" front matter: each line repeats the one above nine times by YAML alias."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for above, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join(f"*{above}" for _ in range(9)) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *g\n---\nThe body is one sentence. It has two.\n"


def test_a_yaml_alias_bomb_is_skipped_unexpanded(tmp_path: Path) -> None:
    (tmp_path / "bomb.md").write_text(alias_bomb(), encoding="utf-8")
    assert (tmp_path / "bomb.md").stat().st_size < 400  # expanded, its title would be about 35 MB
    (tmp_path / "plain.md").write_text("---\ntitle: &t Plain\n---\nA plain body. It is short.\n", encoding="utf-8")
    articles, skipped = read_folder(tmp_path)
    assert [s.path.name for s in skipped] == ["bomb.md"]
    assert "YAML alias" in skipped[0].reason
    assert [a.title for a in articles] == ["Plain"]  # an anchor alone is harmless


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("title: " + "T" * 501, "field 'title' is 501 characters, over the 500-character limit"),
        ("source: " + "s" * 2001, "field 'source' is 2,001 characters"),
        ("byline: [a, b]", "field 'byline' is a list or a mapping"),
        ("notes: " + "x" * 16_001, "front matter is 16,008 characters, over the 16,000-character limit"),
        ("title: " + "[" * 5000 + "]" * 5000, "over the 16,000-character limit|nested too deeply|not valid YAML"),
    ],
)
def test_front_matter_and_its_fields_are_bounded(front: str, message: str) -> None:
    with pytest.raises(ArticleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_article(f"---\n{front}\n---\nBody text. It has 3 figures.", "x")


def test_deep_nesting_in_front_matter_is_a_message_not_a_crash() -> None:
    with pytest.raises(ArticleError, match="nested too deeply|not valid YAML"):
        parse_article("---\nnotes: " + "[" * 3000 + "]" * 3000 + "\n---\nBody text. It is short.", "x")


def test_a_paragraph_too_long_to_cite_is_split_on_sentence_ends() -> None:
    from rag.corpus import PARAGRAPH_CHARS

    sentence = "The same short sentence is said again."
    article = parse_article(f"# Echo\n\n{' '.join([sentence] * 1900)}\n\nA last paragraph. It ends here.", "echo")
    pieces = [p for p in article.paragraphs if sentence in p.text]
    assert len(pieces) == -(-(len(sentence) + 1) * 1900 // PARAGRAPH_CHARS)  # as few pieces as fit
    assert all(len(p.text) <= PARAGRAPH_CHARS and p.text.endswith(".") for p in pieces)
    assert all(s.text == sentence for p in pieces for s in p.sentences)  # no sentence was cut
    assert sum(len(p.sentences) for p in pieces) == 1900
    assert [p.number for p in article.paragraphs] == list(range(1, len(article.paragraphs) + 1))
    assert article.paragraphs[-1].text == "A last paragraph. It ends here."
    assert article.notes == (
        "paragraph 2 (74,099 characters) was split into 19 paragraphs of at most 4,000 characters",
    )


def test_a_sentence_longer_than_a_paragraph_may_be_is_cut_at_spaces() -> None:
    from rag.corpus import PARAGRAPH_CHARS

    words = " ".join(f"word{i}" for i in range(3000))  # one sentence of about 26,000 characters, no full stop
    article = parse_article(words + ".", "long")
    assert len(article.paragraphs) > 1
    assert all(len(p.text) <= PARAGRAPH_CHARS for p in article.paragraphs)
    assert " ".join(p.text for p in article.paragraphs) == words + "."  # cut at spaces, nothing lost
    assert article.notes


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("■At present, the city grew.", "At present, the city grew."),
        ("◆ 一是抓学习。▲二是抓落实。", "一是抓学习。二是抓落实。"),
        ("It rose.★It fell. ▶ Then ✔ it held.", "It rose. It fell. Then it held."),
        ("• First item\n  ‣ second\n· third", "First item\n  second\nthird"),
        # Symbols that mean something stay: temperature, copyright, arrows, currency, a middle dot inside a name.
        ("It was 30℃ © 2020 → ¥5, said 马克·吐温 • twice.", "It was 30℃ © 2020 → ¥5, said 马克·吐温 • twice."),
    ],
)
def test_layout_glyphs_are_cleaned(text: str, cleaned: str) -> None:
    assert strip_glyphs(text) == cleaned


def test_stored_paragraphs_and_titles_carry_no_glyph() -> None:
    article = parse_article(
        "---\ntitle: ★ Jobs report\n---\n■Jobs grew by 5% in May.\n\n● Wages rose 3% in June.\n", "a"
    )
    assert article.title == "Jobs report"
    assert [p.text for p in article.paragraphs] == ["Jobs grew by 5% in May.", "Wages rose 3% in June."]
    for path in (EN, ZH):
        for paragraph in read_article(path).paragraphs:
            assert not GLYPHS.search(paragraph.text), paragraph.text
