"""The evaluation and calibration question sets: well-formed, balanced, evidence really in the seeds, disjoint."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "evals" / "questions.jsonl"
CALIBRATION = ROOT / "evals" / "calibration.jsonl"
# Each set: its file, the prefix of its ids, and its least size.
SETS = {"questions": (QUESTIONS, "", 80), "calibration": (CALIBRATION, "cal-", 100)}
KEYS = {"id", "question", "lang", "kind", "figures", "evidence", "document"}
KINDS = {"same", "cross", "paraphrase", "unanswerable"}
LANGS = {"en", "zh"}
DOCUMENT_LANG = {"suzhou-organizational-work-en": "en", "suzhou-high-tech-zone-zh": "zh"}
# Until the seeds are copied into the repo, read them from the shared folder.
SHARED_SEEDS = {
    "suzhou-organizational-work-en": Path("/work/shared/seeds/000_63ce2ca8024ab677.txt"),
    "suzhou-high-tech-zone-zh": Path("/work/shared/seeds/003_6c67077312b9be3a.txt"),
}
NUMERAL = re.compile(r"[0-9〇零一二两三四五六七八九十百千万亿]")
MAX_EVIDENCE = 120


def seed_text(document: str) -> str:
    """The text of a seed article, from the repo's seeds/ folder or else the shared copy."""
    path = ROOT / "seeds" / f"{document}.txt"
    if not path.exists():
        path = SHARED_SEEDS[document]
    return path.read_text(encoding="utf-8")


def load(path: Path) -> list[dict[str, Any]]:
    """Every line of a question file, parsed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = {name: load(path) for name, (path, _, _) in SETS.items()}
ALL_ROWS = [row for rows in ROWS.values() for row in rows]
each_set = pytest.mark.parametrize("name", list(SETS))


@each_set
def test_every_line_is_json_with_exactly_the_schema_keys(name: str) -> None:
    for line in SETS[name][0].read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert set(row) == KEYS, row


@each_set
def test_field_types_and_values(name: str) -> None:
    for row in ROWS[name]:
        assert isinstance(row["id"], str) and row["id"], row
        assert isinstance(row["question"], str) and row["question"].strip(), row
        assert row["lang"] in LANGS, row
        assert row["kind"] in KINDS, row
        assert isinstance(row["figures"], list), row
        assert all(isinstance(f, str) and f for f in row["figures"]), row
        assert row["evidence"] is None or isinstance(row["evidence"], str), row
        assert row["document"] is None or row["document"] in DOCUMENT_LANG, row


@each_set
def test_ids_are_unique_and_name_lang_and_kind(name: str) -> None:
    prefix = SETS[name][1]
    ids = [row["id"] for row in ROWS[name]]
    assert len(ids) == len(set(ids))
    for row in ROWS[name]:
        assert re.fullmatch(rf"{prefix}{row['lang']}-{row['kind']}-\d{{3}}", row["id"]), row["id"]


@each_set
def test_question_language_matches_its_script(name: str) -> None:
    for row in ROWS[name]:
        has_han = re.search(r"[\u4e00-\u9fff]", row["question"]) is not None
        assert has_han == (row["lang"] == "zh"), row["id"]


@each_set
def test_size_and_mix(name: str) -> None:
    rows = ROWS[name]
    assert len(rows) >= SETS[name][2]
    kinds = Counter(row["kind"] for row in rows)
    assert all(kinds[kind] >= 15 for kind in KINDS), kinds
    pairs = {(row["kind"], row["lang"]) for row in rows}
    assert pairs == {(kind, lang) for kind in KINDS for lang in LANGS}


@each_set
def test_figures_empty_iff_unanswerable(name: str) -> None:
    for row in ROWS[name]:
        unanswerable = row["kind"] == "unanswerable"
        assert (row["figures"] == []) == unanswerable, row["id"]
        assert (row["evidence"] is None) == unanswerable, row["id"]
        assert (row["document"] is None) == unanswerable, row["id"]


@each_set
def test_document_language_fits_the_kind(name: str) -> None:
    for row in ROWS[name]:
        if row["kind"] in {"same", "paraphrase"}:
            assert DOCUMENT_LANG[row["document"]] == row["lang"], row["id"]
        elif row["kind"] == "cross":
            assert DOCUMENT_LANG[row["document"]] != row["lang"], row["id"]


@pytest.mark.parametrize("row", [r for r in ALL_ROWS if r["kind"] != "unanswerable"], ids=lambda r: r["id"])
def test_evidence_is_verbatim_in_its_article_and_holds_the_figure(row: dict[str, Any]) -> None:
    evidence = row["evidence"]
    assert evidence in seed_text(row["document"])
    # One line of the English file, one block of the Chinese file: paragraph joining cannot split it.
    assert "\n" not in evidence
    assert len(evidence) <= MAX_EVIDENCE
    for figure in row["figures"]:
        assert NUMERAL.search(figure), figure
        assert figure in evidence, figure


def test_no_question_is_in_both_the_evaluation_and_the_calibration_set() -> None:
    # Thresholds tuned on a question the evaluation also asks would flatter the evaluation.
    def key(question: str) -> str:
        return " ".join(question.casefold().split())

    evaluation = {key(row["question"]) for row in ROWS["questions"]}
    shared = [row["id"] for row in ROWS["calibration"] if key(row["question"]) in evaluation]
    assert shared == []
