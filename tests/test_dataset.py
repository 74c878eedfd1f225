"""The evaluation question set (evals/questions.jsonl) and its loader (evals/dataset.py): well-formed, balanced,
evidence really in the seeds; bad lines reported by number."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from evals.dataset import QUESTIONS, load, select
from rag.text import CJK

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"id", "question", "lang", "kind", "figures", "evidence", "document"}
OPTIONAL_KEYS = {"asks", "answer"}
KINDS = {"same", "cross", "paraphrase", "unanswerable"}
LANGS = {"en", "zh"}
DOCUMENT_LANG = {"suzhou-organizational-work-en": "en", "suzhou-high-tech-zone-zh": "zh"}
NUMERAL = re.compile(r"[0-9〇零一二两三四五六七八九十百千万亿]")
MAX_EVIDENCE = 120


def seed_text(document: str) -> str:
    """The text of a seed article."""
    return (ROOT / "seeds" / f"{document}.txt").read_text(encoding="utf-8")


def rows_of(path: Path) -> list[dict[str, Any]]:
    """Every line of a question file, parsed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = rows_of(QUESTIONS)


def asks(row: dict[str, Any]) -> str:
    """What the question asks for: a figure (the default), a fact or a summary."""
    return str(row.get("asks", "figure"))


def test_every_line_is_json_with_exactly_the_schema_keys() -> None:
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert KEYS <= set(row) <= KEYS | OPTIONAL_KEYS, row
        # `asks` is written only when it is not a figure; `answer` exactly for the answerable fact questions.
        assert row.get("asks", "fact") in {"fact", "summary"}, row
        assert ("answer" in row) == (asks(row) == "fact" and row["kind"] != "unanswerable"), row


def test_field_types_and_values() -> None:
    for row in ROWS:
        assert isinstance(row["id"], str) and row["id"], row
        assert isinstance(row["question"], str) and row["question"].strip(), row
        assert row["lang"] in LANGS, row
        assert row["kind"] in KINDS, row
        assert isinstance(row["figures"], list), row
        assert all(isinstance(f, str) and f for f in row["figures"]), row
        assert row["evidence"] is None or isinstance(row["evidence"], str), row
        assert row["document"] is None or row["document"] in DOCUMENT_LANG, row


def test_ids_are_unique_and_name_lang_and_kind() -> None:
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids))
    for row in ROWS:
        # A figure question is named by its kind (en-same-001), a fact or summary by what it asks (zh-fact-003).
        name = row["kind"] if asks(row) == "figure" else asks(row)
        assert re.fullmatch(rf"{row['lang']}-{name}-\d{{3}}", row["id"]), row["id"]


def test_question_language_matches_its_script() -> None:
    for row in ROWS:
        has_han = CJK.search(row["question"]) is not None
        assert has_han == (row["lang"] == "zh"), row["id"]


def test_size_and_mix() -> None:
    figures = [row for row in ROWS if asks(row) == "figure"]
    assert len(figures) >= 80
    kinds = Counter(row["kind"] for row in figures)
    assert all(kinds[kind] >= 15 for kind in KINDS), kinds
    pairs = {(row["kind"], row["lang"]) for row in figures}
    assert pairs == {(kind, lang) for kind in KINDS for lang in LANGS}
    # Fact questions: at least 12 answerable per language, 2 of them cross-lingual; some near misses.
    facts = Counter((row["kind"], row["lang"]) for row in ROWS if asks(row) == "fact")
    for lang in LANGS:
        assert facts["same", lang] + facts["cross", lang] >= 12, facts
        assert facts["cross", lang] >= 2, facts
        assert facts["unanswerable", lang] >= 2, facts
    # Summaries: each article asked about in each language.
    summaries = {(row["document"], row["lang"]) for row in ROWS if asks(row) == "summary"}
    assert summaries == {(document, lang) for document in DOCUMENT_LANG for lang in LANGS}


def test_figures_empty_iff_unanswerable() -> None:
    for row in ROWS:
        unanswerable = row["kind"] == "unanswerable"
        # Only an answerable figure question has figures; a summary has its article but no evidence.
        assert (row["figures"] == []) == (unanswerable or asks(row) != "figure"), row["id"]
        assert (row["evidence"] is None) == (unanswerable or asks(row) == "summary"), row["id"]
        assert (row["document"] is None) == unanswerable, row["id"]


def test_document_language_fits_the_kind() -> None:
    for row in ROWS:
        if row["kind"] in {"same", "paraphrase"}:
            assert DOCUMENT_LANG[row["document"]] == row["lang"], row["id"]
        elif row["kind"] == "cross":
            assert DOCUMENT_LANG[row["document"]] != row["lang"], row["id"]


@pytest.mark.parametrize("row", [r for r in ROWS if r["evidence"] is not None], ids=lambda r: r["id"])
def test_evidence_is_verbatim_in_its_article_and_holds_the_figure(row: dict[str, Any]) -> None:
    evidence = row["evidence"]
    assert evidence in seed_text(row["document"])
    # One line of the English file, one block of the Chinese file: paragraph joining cannot split it.
    assert "\n" not in evidence
    assert len(evidence) <= MAX_EVIDENCE
    for figure in row["figures"]:
        assert NUMERAL.search(figure), figure
        assert figure in evidence, figure
    if asks(row) == "fact":  # the gold answer: a short span of the evidence (whitespace and case aside)
        answer = " ".join(row["answer"].split())
        assert answer.casefold() in " ".join(evidence.split()).casefold(), row["id"]
        assert len(answer) <= 80, row["id"]


GOOD: dict[str, object] = {
    "id": "en-same-002",
    "question": "How many cadres has Suzhou trained?",
    "lang": "en",
    "kind": "same",
    "figures": ["240,000"],
    "evidence": "and trained more than 240,000 cadres",
    "document": "suzhou-organizational-work-en",
}
UNANSWERABLE: dict[str, object] = {
    "id": "en-unanswerable-001",
    "question": "How many hospitals does Suzhou have?",
    "lang": "en",
    "kind": "unanswerable",
    "figures": [],
    "evidence": None,
    "document": None,
}


def jsonl(path: Path, *rows: Mapping[str, object] | str) -> Path:
    """Write rows (dicts as JSON, strings as they are) one per line."""
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_committed_question_set_loads_clean() -> None:
    dataset = load(QUESTIONS)
    assert dataset.errors == []
    assert len(dataset.cases) == 147
    asked = Counter(case.asks for case in dataset.cases)
    assert asked == {"figure": 111, "fact": 32, "summary": 4}


def test_bad_lines_are_reported_with_their_numbers_and_the_rest_is_read(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "q.jsonl",
        GOOD,
        '{"id": "broken", ',
        {**GOOD, "id": "x-1", "answer": "240,000"},
        {key: value for key, value in GOOD.items() if key != "evidence"} | {"id": "x-2"},
        "",
        {**GOOD, "id": "x-3", "kind": "easy"},
        {**GOOD, "id": "x-4", "figures": ["250,000"]},
        {**UNANSWERABLE, "figures": ["12"]},
        GOOD,
        UNANSWERABLE,
        "[1, 2]",
    )
    dataset = load(path)
    assert [case.id for case in dataset.cases] == ["en-same-002", "en-unanswerable-001"]
    assert [case.line for case in dataset.cases] == [1, 10]
    messages = {error.line: error.message for error in dataset.errors}
    assert sorted(messages) == [2, 3, 4, 6, 7, 8, 9, 11]
    assert "not valid JSON" in messages[2]
    assert "given for a fact question only" in messages[3]  # a figure question has no 'answer'
    assert "missing field(s) 'evidence'" in messages[4]
    assert "'kind' must be one of" in messages[6]
    assert "'250,000' is not in the evidence" in messages[7]
    assert "unanswerable" in messages[8]
    assert "duplicate id 'en-same-002' (first on line 1)" in messages[9]
    assert "expected a JSON object" in messages[11]
    assert str(dataset.errors[0]).startswith("line 2: ")


def test_select_by_kind_then_limit() -> None:
    cases = load(QUESTIONS).cases
    cross = select(cases, kind="cross", limit=3)
    assert len(cross) == 3 and all(case.kind == "cross" for case in cross)
    assert select(cases) == cases
