"""The public suite: splits by article, evidence sentences, corpora with every kind of question."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals.dataset import load
from evals.public import DATA, Record, build, main, read, split_of, write


def record(context: str, answer: str, question: str = "How many?", title: str = "T", source: str = "squadshifts-new_wiki.en") -> Record:
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


needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"the development data is not at {DATA} (see evals/public.py)")


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
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            source = by_id[(row["source_file"], row["source_id"])]
            assert source.split == row["split"] and source.title == row["title"], (path.name, row["source_id"])
