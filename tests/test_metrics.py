"""Scoring of hand-made answers: each metric is shown passing and failing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from evals.dataset import Case
from evals.metrics import (
    MAX_ANSWER_CHARS,
    citation_hit,
    evidence_rank,
    failure,
    hallucinated_figures,
    judge,
    quote_covers,
    quote_hit,
    states_figures,
    summarize,
    summarize_by_kind,
)
from rag.answer import Answer, Citation
from rag.retrieve import Hit
from rag.store import Record

EN = "suzhou-organizational-work-en"
ZH = "suzhou-high-tech-zone-zh"
# Paragraphs as they stand in the seed articles.
CADRES = (
    "■ Over the past ten years, the city level has held more than 760 cadre education and training classes of "
    "various types, and trained more than 240,000 cadres."
)
TALENTS = (
    "■At present, the city has a total of about 3.43 million talents, with more than 340,000 high-level talents. "
    "361 people have independently applied for the A-class national major talent projects, including 163 people "
    "in the entrepreneurship category, accounting for about 15% of the country and 51% of the province."
)
TRAINED = Case(
    id="en-same-002",
    question="How many cadres has Suzhou trained at the city level over the past ten years?",
    lang="en",
    kind="same",
    figures=("240,000",),
    evidence="and trained more than 240,000 cadres",
    document=EN,
)
TALENT_TOTAL = Case(
    id="zh-cross-001",
    question="苏州全市人才总量是多少？",
    lang="zh",
    kind="cross",
    figures=("3.43 million",),
    evidence="the city has a total of about 3.43 million talents",
    document=EN,
)
HOSPITALS = Case(
    id="en-unanswerable-001",
    question="How many hospitals does Suzhou have?",
    lang="en",
    kind="unanswerable",
    figures=(),
    evidence=None,
    document=None,
)


def citation(text: str, quote: str | None = None, document: str = EN, paragraph: int = 12, number: int = 1) -> Citation:
    """A citation of `text`, quoting all of it unless told otherwise."""
    return Citation(
        number=number, document=document, title="t", paragraph=paragraph, text=text, quote=quote or text, lang="en"
    )


def answer(text: str, *citations: Citation, found: bool = True, question: str = "q") -> Answer:
    """An answer as the engine would return it."""
    return Answer(question=question, text=text, found=found, citations=list(citations))


def refusal() -> Answer:
    """The offline refusal."""
    return answer("The articles do not say.", found=False)


def test_figure_stated_with_markers_stripped() -> None:
    good = answer("Suzhou trained more than 240,000 cadres. [1]", citation(CADRES))
    assert states_figures(good, TRAINED.figures)
    assert not states_figures(answer("Suzhou trained more than 24,000 cadres. [1]"), TRAINED.figures)


def test_a_marker_is_not_a_figure() -> None:
    assert not states_figures(answer("It was the first one [1]."), ("1",))
    assert states_figures(answer("It was 1 of them [2]."), ("1",))


def test_a_figure_stated_up_front_is_the_claim_the_quote_only_its_evidence() -> None:
    quote = "决定派出3个区工委巡回督导组、委托区教育工委、区国资委派出4个督导组"
    assert not states_figures(answer(f"3 — {quote} [1]"), ("4个",))
    assert states_figures(answer(f"4 — {quote} [1]"), ("4个",))
    assert states_figures(answer("Suzhou — more than 240,000 cadres were trained. [1]"), TRAINED.figures)


def test_figure_matches_across_languages_and_spellings() -> None:
    assert states_figures(answer("全市人才总量约343万人。[1]"), TALENT_TOTAL.figures)
    assert not states_figures(answer("全市人才总量约34万人。[1]"), TALENT_TOTAL.figures)


def test_an_answer_over_500_characters_states_no_figure() -> None:
    padding = "The city invests in talent and training. " * 12
    short = "Suzhou trained more than 240,000 cadres. " + padding[: MAX_ANSWER_CHARS - 60]
    long = "Suzhou trained more than 240,000 cadres. " + padding
    assert len(short) <= MAX_ANSWER_CHARS < len(long)
    assert states_figures(answer(short), TRAINED.figures)
    assert not states_figures(answer(long), TRAINED.figures)


def test_every_expected_figure_must_be_stated() -> None:
    both = ("3.43 million", "340,000")
    assert states_figures(answer("About 3.43 million talents, 340,000 of them high-level [1]."), both)
    assert not states_figures(answer("About 3.43 million talents [1]."), both)


def test_citation_hit_needs_the_evidence_paragraph_of_the_right_article() -> None:
    assert citation_hit(answer("x [1]", citation(CADRES)), TRAINED)
    assert citation_hit(answer("x [2]", citation(TALENTS), citation(CADRES, number=2)), TRAINED)
    assert not citation_hit(answer("x [1]", citation(TALENTS)), TRAINED)
    assert not citation_hit(answer("x [1]", citation(CADRES, document=ZH)), TRAINED)
    assert not citation_hit(answer("x"), TRAINED)


def test_quote_hit_quote_holds_evidence_or_is_a_part_of_it_with_the_figure() -> None:
    sentence = CADRES[2:]
    assert quote_hit(answer("x [1]", citation(CADRES, quote=sentence)), TRAINED)
    assert quote_hit(answer("x [1]", citation(CADRES, quote="trained more than 240,000 cadres")), TRAINED)
    # Right paragraph, but the quote is a part of the evidence without the figure, or another sentence.
    assert not quote_hit(answer("x [1]", citation(CADRES, quote="and trained more than")), TRAINED)
    assert not quote_hit(answer("x [1]", citation(TALENTS, quote=TALENTS[:105])), TRAINED)
    assert not quote_covers("", "anything", ())


def test_hallucination_figure_not_in_any_cited_paragraph() -> None:
    honest = answer("More than 240,000 cadres were trained [1].", citation(CADRES))
    invented = answer("More than 250,000 cadres were trained in 2019 [1].", citation(CADRES))
    assert hallucinated_figures(honest, TRAINED) == []
    flagged = hallucinated_figures(invented, TRAINED)  # as written, qualifiers included ("More than 250,000")
    assert len(flagged) == 2 and "250,000" in flagged[0] and "2019" in flagged[1]


def test_hallucination_on_unanswerable_is_any_answered_figure() -> None:
    assert hallucinated_figures(answer("Suzhou has 320 hospitals [1].", citation(CADRES)), HOSPITALS) == ["320"]
    assert hallucinated_figures(answer("Suzhou has hospitals [1].", citation(CADRES)), HOSPITALS) == []
    assert hallucinated_figures(refusal(), HOSPITALS) == []


def test_correct_needs_found_figure_and_citation() -> None:
    right = judge(TRAINED, answer("More than 240,000 cadres [1].", citation(CADRES)), 0.1)
    wrong_figure = judge(TRAINED, answer("More than 760 classes [1].", citation(CADRES)), 0.1)
    wrong_paragraph = judge(TRAINED, answer("More than 240,000 cadres [1].", citation(TALENTS)), 0.1)
    refused = judge(TRAINED, refusal(), 0.1)
    assert right.correct and right.reasons() == []
    assert not wrong_figure.correct and wrong_figure.reasons() == ["figure missing or wrong"]
    assert not wrong_paragraph.correct and "evidence paragraph not cited" in wrong_paragraph.reasons()
    assert "240,000" in wrong_paragraph.reasons()[-1]  # TALENTS does not state it: unsupported
    assert not refused.correct and refused.refused and refused.reasons() == ["refused"]


def test_unanswerable_is_correct_only_when_refused() -> None:
    assert judge(HOSPITALS, refusal(), 0.1).correct
    answered = judge(HOSPITALS, answer("Suzhou has 320 hospitals [1].", citation(CADRES)), 0.1)
    assert not answered.correct
    assert answered.reasons() == ["answered an unanswerable question", "unsupported figure(s): 320"]


def test_a_raised_ask_is_wrong_and_says_why() -> None:
    verdict = failure(TRAINED, RuntimeError("store closed"), 0.2, rank=1)
    assert not verdict.correct and not verdict.refused and not verdict.found
    assert verdict.reasons() == ["ask() raised: RuntimeError: store closed"]
    assert summarize([verdict]).errors == 1


def record(paragraph_id: str, document: str = EN) -> Record:
    """A stored sentence of the paragraph `paragraph_id`."""
    return Record(
        id=f"{paragraph_id}-s", text="t", document=document, title="t", lang="en", paragraph=1,
        paragraph_id=paragraph_id, kind="paragraph", sentence=0, start=0, end=1,
    )  # fmt: skip


def test_evidence_rank_counts_distinct_paragraphs() -> None:
    paragraphs = {"talents": TALENTS, "cadres": CADRES, "zh": CADRES}
    hits = [Hit(record(pid, doc), 0.1, 0.0, 0.0) for pid, doc in
            [("talents", EN), ("talents", EN), ("zh", ZH), ("cadres", EN)]]  # fmt: skip
    # The "zh" paragraph has the words but belongs to the other article, so it does not count.
    assert evidence_rank(TRAINED, hits, paragraphs) == 3
    assert evidence_rank(TRAINED, hits[:3], paragraphs) is None
    assert evidence_rank(HOSPITALS, hits, paragraphs) is None


def test_nearest_hit_is_a_refusal_showing_the_evidence_paragraph() -> None:
    shown = replace(refusal(), nearest=[citation(TALENTS, number=1), citation(CADRES, number=2)])
    assert judge(TRAINED, shown, 0.1).nearest_hit
    assert not judge(TRAINED, replace(shown, nearest=[citation(TALENTS)]), 0.1).nearest_hit
    assert not judge(TRAINED, replace(shown, nearest=[citation(CADRES, document=ZH)]), 0.1).nearest_hit
    assert not judge(HOSPITALS, shown, 0.1).nearest_hit  # nothing to find
    found = answer("More than 240,000 cadres [1].", citation(CADRES))
    assert not judge(TRAINED, replace(found, nearest=[citation(CADRES)]), 0.1).nearest_hit  # an answer shows none
    verdicts = [judge(TRAINED, shown, 0.1), judge(TRAINED, refusal(), 0.1), judge(TRAINED, found, 0.1)]
    assert summarize(verdicts).nearest_hit == pytest.approx(0.5)  # of the refused answerable questions
    assert summarize([judge(TRAINED, found, 0.1)]).nearest_hit is None


def test_summary_of_a_mixed_set() -> None:
    good = answer("More than 240,000 cadres [1][2].", citation(CADRES), citation(TALENTS, number=2))
    verdicts = [
        judge(TRAINED, good, 0.1, rank=1),
        judge(TRAINED, refusal(), 0.3, rank=4),
        judge(HOSPITALS, refusal(), 0.2),
        judge(HOSPITALS, answer("Suzhou has 320 hospitals [1].", citation(CADRES)), 0.4),
    ]
    s = summarize(verdicts)
    assert (s.questions, s.answerable) == (4, 2)
    assert s.correct == pytest.approx(0.5)
    assert s.figure_accuracy == pytest.approx(0.5) and s.citation_hit == pytest.approx(0.5)
    assert s.citation_precision == pytest.approx(0.5)  # of two citations only CADRES states 240,000
    assert s.refusal_precision == pytest.approx(0.5) and s.refusal_recall == pytest.approx(0.5)
    assert s.hallucination == pytest.approx(0.25)
    assert (s.recall_at_1, s.recall_at_3, s.recall_at_5) == (0.5, 0.5, 1.0)
    assert s.mrr == pytest.approx((1 + 1 / 4) / 2)
    assert s.p50_seconds == pytest.approx(0.25)
    by_kind = summarize_by_kind(verdicts)
    assert list(by_kind) == ["same", "unanswerable", "overall"]
    assert by_kind["unanswerable"].figure_accuracy is None and by_kind["same"].refusal_recall is None
