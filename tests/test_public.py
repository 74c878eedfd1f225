"""The public suite: splits by article, evidence sentences, corpora with every kind of question."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals.dataset import load
from evals.public import DATA, Record, build, main, read, split_of, write


def record(
    context: str, answer: str, question: str = "How many?", title: str = "T", source: str = "squadshifts-new_wiki.en"
) -> Record:
    return Record("q1", source, "en", title, context, question, answer, context.index(answer), True)


def test_split_is_a_stable_hash_of_the_article_with_the_stated_shares() -> None:
    splits = Counter(split_of("cmrc2018-train.zh", f"title {n}") for n in range(5000))
    assert splits["train"] / 5000 == pytest.approx(0.6, abs=0.03)
    assert splits["dev"] / 5000 == pytest.approx(0.2, abs=0.03)
    assert split_of("cmrc2018-train.zh", "范廷颂") == split_of("cmrc2018-train.zh", "范廷颂")


def test_evidence_is_the_sentence_holding_the_answer() -> None:
    context = "The bridge opened in 1932. It carries 160,000 vehicles a day across the harbour. It was widened later."
    assert record(context, "160,000").evidence == "It carries 160,000 vehicles a day across the harbour."
    chinese = "这座跨越港湾的大桥于1932年正式通车。每天有16万辆车通过。大桥后来经过两次拓宽改造。"
    assert record(chinese, "16万", source="cmrc2018-train.zh").evidence == "每天有16万辆车通过。"


def test_a_record_is_a_figure_question_only_with_one_short_figure() -> None:
    assert record("It carries 160,000 vehicles a day.", "160,000").figure_question
    assert not record("It was built by the city council in 1932.", "the city council in 1932").figure_question


def test_missing_data_says_how_to_get_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--data", str(tmp_path), "--cache", str(tmp_path / "cache")]) == 2
    assert "development data" in capsys.readouterr().err


needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"the development data is not at {DATA} (see evals/public.py)"
)


@needs_data
def test_corpora_mix_languages_and_ask_every_kind(tmp_path: Path) -> None:
    records = read(DATA)
    (corpus,) = build(records, "test")
    langs = Counter(article.lang for article in corpus.articles)
    assert langs["en"] and langs["zh"]
    assert sum(len(a.paragraphs) for a in corpus.articles) >= 300  # retrieval must matter
    kinds = Counter(q["kind"] for q in corpus.questions)
    assert kinds["same"] >= 100 and kinds["unanswerable"] >= 20
    ids = {a.id for a in corpus.articles}
    assert all(q["document"] in ids for q in corpus.questions if q["kind"] != "unanswerable")
    # No question of the test split comes from an article of another split.
    train_titles = {a.key for c in build(records, "train") for a in c.articles}
    assert train_titles.isdisjoint(a.key for a in corpus.articles)
    # What is written reads back as valid evaluation questions whose evidence is in the written article.
    folder, questions = write(corpus, tmp_path)
    dataset = load(questions)
    assert not dataset.errors and len(dataset.cases) == len(corpus.questions)
    case = next(c for c in dataset.cases if c.kind == "same")
    text = (folder / f"{case.document}.txt").read_text(encoding="utf-8")
    assert case.evidence is not None and case.evidence in " ".join(text.split())


@needs_data
def test_hand_written_questions_point_at_real_questions_of_their_split() -> None:
    from evals.public import WRITTEN

    by_id = {(r.source, r.id): r for r in read(DATA)}
    for path in sorted(WRITTEN.glob("*.jsonl")):
        if path.name == "conversations.jsonl":
            continue  # conversations: tested in tests/test_eval_conversations.py
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            source = by_id[(row["source_file"], row["source_id"])]
            assert source.split == row["split"] and source.title == row["title"], (path.name, row["source_id"])


# The hand-written non-figure (fact) questions: cross-lingual translations and near misses.
FACT_FILES = ("fact-cross-en2zh.jsonl", "fact-cross-zh2en.jsonl", "fact-near-miss.jsonl")
FACT_FIELDS = {
    "cross": ("source_id", "source_file", "split", "lang", "question", "original", "answer", "title"),
    "near": ("source_id", "source_file", "split", "lang", "question", "original", "changed", "title"),
}
CHANGED = {"person", "place", "organisation", "time", "thing"}


def fact_rows(name: str) -> list[dict[str, str]]:
    from evals.public import WRITTEN

    lines = (WRITTEN / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("name", FACT_FILES)
def test_fact_question_files_are_well_formed(name: str) -> None:
    from rag.text import CJK

    rows = fact_rows(name)
    shape = "near" if "near" in name else "cross"
    assert len(rows) >= (50 if shape == "near" else 100)
    splits = Counter(row["split"] for row in rows)
    assert splits["test"] >= (15 if shape == "near" else 30) and splits["dev"] >= (10 if shape == "near" else 20)
    assert len({(row["source_file"], row["source_id"]) for row in rows}) == len(rows)
    for row in rows:
        assert tuple(row) == FACT_FIELDS[shape], row
        assert all(isinstance(value, str) and value.strip() for value in row.values()), row
        assert row["split"] in {"train", "dev", "test"} and row["lang"] in {"en", "zh"}, row
        assert (CJK.search(row["question"]) is not None) == (row["lang"] == "zh"), row["question"]
        assert row["question"] != row["original"], row
        if shape == "near":
            assert row["changed"] in CHANGED, row
        else:  # the question is asked in the other language than its source's
            assert row["lang"] == ("zh" if row["source_file"].endswith(".en") else "en"), row
    if shape == "near":
        assert {row["lang"] for row in rows} == {"en", "zh"}


@needs_data
def test_fact_questions_are_non_figure_questions_of_articles_kept_in_their_split() -> None:
    records = read(DATA)
    by_id = {(r.source, r.id): r for r in records}
    kept = {split: {a.key for c in build(records, split) for a in c.articles} for split in ("train", "dev", "test")}
    for name in FACT_FILES:
        for row in fact_rows(name):
            source = by_id[(row["source_file"], row["source_id"])]
            assert source.split == row["split"] and source.title == row["title"], (name, row["source_id"])
            assert not source.figure_question, (name, row["source_id"])
            assert f"{source.source}:{source.title}" in kept[row["split"]], (name, row["source_id"])
            if "answer" in row:
                assert row["answer"] == source.answer and row["answer"] in source.context, (name, row["source_id"])
                assert source.evidence is not None, (name, row["source_id"])


def test_a_fact_record_is_a_span_without_a_figure_in_a_sentence() -> None:
    fact = Record("q2", "squadshifts-new_wiki.en", "en", "T", "The bridge was built by the city council. It is red.",
                  "Who built it?", "the city council", 25, False)  # fmt: skip
    assert fact.fact_question and fact.evidence == "The bridge was built by the city council."
    assert not record("It carries 160,000 vehicles a day.", "160,000").fact_question


@needs_data
def test_fact_questions_come_in_every_kind_without_moving_the_figure_ones(tmp_path: Path) -> None:
    from evals.public import FACTS_ASKED

    records = read(DATA)
    (corpus,) = build(records, "dev")
    facts = [q for q in corpus.questions if q.get("asks") == "fact"]
    kinds = Counter(q["kind"] for q in facts)
    assert kinds["same"] >= 200 and kinds["unanswerable"] >= 40
    assert all(q["answer"].casefold() in q["evidence"].casefold() for q in facts if q["kind"] != "unanswerable")
    # The fact sample is drawn apart: without it, the corpus and its figure questions are the same.
    (without,) = build(records, "dev", facts_asked=dict.fromkeys(FACTS_ASKED, 0))
    assert [a.id for a in without.articles] == [a.id for a in corpus.articles]
    figures = [q for q in without.questions if q.get("asks") != "fact"]
    assert figures == [q for q in corpus.questions if q.get("asks") != "fact"]
    _, questions = write(corpus, tmp_path)
    assert not load(questions).errors
