"""The public benchmark suite: corpora built from the public development data, asked figure questions.

    python -m evals.public build                  # write corpora and questions (train, dev, test) to the cache
    python -m evals.public run --split dev        # ingest (vectors cached by text) and score, per kind and language

The data (`--data`, default ../shared/datasets beside the repository) are real questions with answer spans:
CMRC 2018 (Chinese Wikipedia) and SQuADShifts new_wiki and TAT-QA text spans (English). They are not copied into
this repository. Every article title goes to one split by a hash of its name: *train* (60%) to fit the
answerer, *dev* (20%) to choose, *test* (20%) to report only. Each corpus mixes Chinese and English articles,
several hundred paragraphs, so retrieval matters. The questions of a corpus are written in the schema of
`evals/questions.jsonl`, so the seed evaluation's metrics score them:

- ``same``: a figure question asked in the article's language (answer: one figure, at most 20 characters);
- ``cross``: the same kind of question translated by hand into the other language (evals/public/cross-*.jsonl);
- ``unanswerable``: a figure question whose article was left out of the corpus, and hand-written near misses
  that change only the year, the place or the measure of a question (evals/public/near-miss.jsonl).

Each corpus also asks *fact* questions (``asks: fact``: who, what, why, how; the answer is a span, not a figure)
of the same articles, in the same three kinds: a sample of the questions whose answer holds no figure, with the
span as ``answer`` and its sentence as ``evidence``; those of left-out articles as unanswerable; and, when present,
the hand-written evals/public/fact-cross-*.jsonl and fact-near-miss.jsonl. They are drawn apart from the figure
questions (their own random stream, no article added for them), so the figure questions and the corpora stay as
they were.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.figures import parse_figure
from rag.settings import PROJECT_ROOT

from . import baseline
from .metrics import Summary, Verdict, summarize
from .report import terminal
from .vectors import CachedE5, VectorCache

if TYPE_CHECKING:
    from rag.engine import Engine

DATA = PROJECT_ROOT.parent / "shared" / "datasets"
HERE = Path(__file__).resolve().parent
WRITTEN = HERE / "public"  # the hand-written cross-lingual and near-miss questions (ours, committed)
CACHE = PROJECT_ROOT / "evals" / "cache"  # corpora, stores, vectors: made here, never committed
SPLITS = ("train", "dev", "test", "ci")  # ci: a small part of dev, embedded in CI's time (about 1,500 sentences)
CI_SHAPE = {"zh": 40, "wiki": 1, "tatqa": 10}  # articles of dev's corpus the CI subset keeps
SOURCES = {  # file stem → language; Reddit and Amazon reviews are left out (not articles)
    "cmrc2018-train.zh": "zh",
    "cmrc2018-trial.zh": "zh",
    "squadshifts-new_wiki.en": "en",
    "tatqa-text-span.en": "en",
}
PUBLIC_BASELINE = HERE / "baseline-public.json"
MAX_ANSWER = 20  # characters: longer "numeric" answers are clauses that merely mention a figure
HOW_TO_GET = (
    "The public suite needs the development data: put the folder 'datasets' (CMRC 2018, SQuADShifts, TAT-QA as "
    "JSONL, see its README) at {path} or pass --data PATH."
)
# How a split's corpora are made: per corpus, articles kept in and articles whose questions become unanswerable.
SHAPE = {"zh": (110, 25), "wiki": (4, 1), "tatqa": (60, 15)}
CORPORA = {"train": 3, "dev": 1, "test": 1}
ASKED_OUT = {"zh": 2, "wiki": 30, "tatqa": 2}  # questions asked of each left-out article
# Fact questions asked of each article (kept or left out): a sample, so a corpus asks about as many facts as figures.
FACTS_ASKED = {"zh": 3, "wiki": 40, "tatqa": 2}
CI_FACTS_OUT = 12  # unanswerable fact questions of left-out articles the CI subset asks
MIN_PARAGRAPH = 30  # characters; shorter contexts (a heading, a table cell) are not paragraphs to cite


@dataclass(frozen=True)
class Record:
    """One line of the development data."""

    id: str
    source: str
    lang: str
    title: str
    context: str
    question: str
    answer: str
    start: int
    numeric: bool

    @property
    def split(self) -> str:
        """train / dev / test, by a hash of the article (of the post, for sources with one title)."""
        return split_of(self.source, self.title)

    @property
    def figure_question(self) -> bool:
        """Whether the answer is one figure, short enough to be a figure rather than a clause."""
        return self.numeric and len(self.answer) <= MAX_ANSWER and parse_figure(self.answer) is not None

    @property
    def fact_question(self) -> bool:
        """Whether the answer is a span holding no figure (who, what, why, how), with a sentence to quote."""
        return not self.numeric and self.evidence is not None

    @property
    def evidence(self) -> str | None:
        """The sentence of the context that holds the answer (at its offset), whitespace collapsed; None when the
        answer's paragraph is not kept or the sentence does not read the answer as the same figure."""
        start = self.start
        line_start = self.context.rfind("\n", 0, start) + 1
        line_end = self.context.find("\n", start)
        line = self.context[line_start : line_end if line_end >= 0 else len(self.context)]
        if len(line.strip()) < MIN_PARAGRAPH:
            return None
        offset = start - line_start
        bounds = [0, *(m.end() for m in _SENTENCE_END.finditer(line)), len(line)]
        left = max(b for b in bounds if b <= offset)
        right = min((b for b in bounds if b >= offset + len(self.answer)), default=len(line))
        sentence = " ".join(line[left:right].split())
        answer = " ".join(self.answer.split())
        return sentence if answer in sentence and len(sentence) >= len(answer) else None


def split_of(source: str, title: str) -> str:
    """The split of an article: the same rule the hand-written question files were drawn with."""
    h = int(hashlib.sha1(f"{source}:{title}".encode()).hexdigest(), 16) % 10
    return "train" if h < 6 else "dev" if h < 8 else "test"


def read(data: Path) -> list[Record]:
    """Every question of the sources used, from `data`; FileNotFoundError says how to get them."""
    missing = [stem for stem in SOURCES if not (data / f"{stem}.jsonl").is_file()]
    if missing:
        raise FileNotFoundError(HOW_TO_GET.format(path=data))
    records = []
    for stem, lang in SOURCES.items():
        for line in (data / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            records.append(
                Record(
                    row["id"],
                    stem,
                    lang,
                    row["title"],
                    row["context"],
                    row["question"],
                    row["answers"][0],
                    row["answer_start"],
                    bool(row["numeric"]),
                )
            )
    return records


@dataclass
class Article:
    """An article of a corpus: one title of one source, its distinct paragraphs in order."""

    key: str  # source:title
    source: str
    lang: str
    title: str
    paragraphs: list[str]

    @property
    def id(self) -> str:
        """The document id the corpus reader gives its file (see rag.corpus.article_id)."""
        return "pub-" + hashlib.sha1(self.key.encode()).hexdigest()[:12]


def articles(records: Iterable[Record]) -> dict[str, Article]:
    """The articles of the records, by source:title, with their contexts as paragraphs (first-seen order)."""
    found: dict[str, Article] = {}
    for r in records:
        key = f"{r.source}:{r.title}"
        article = found.setdefault(key, Article(key, r.source, r.lang, r.title, []))
        for paragraph in _paragraphs(r.context):
            if paragraph not in article.paragraphs:
                article.paragraphs.append(paragraph)
    return found


def _paragraphs(context: str) -> list[str]:
    """A context as paragraphs: TAT-QA joins its paragraphs with newlines; the others are one paragraph."""
    return [" ".join(p.split()) for p in context.split("\n") if len(p.strip()) >= MIN_PARAGRAPH]


def _family(source: str) -> str:
    return "zh" if source.startswith("cmrc") else "wiki" if "new_wiki" in source else "tatqa"


@dataclass(frozen=True)
class Corpus:
    """One corpus: the articles ingested, and the questions asked of it (Case schema rows)."""

    name: str
    split: str
    articles: list[Article]
    questions: list[dict[str, Any]]


def build(
    records: Sequence[Record],
    split: str,
    written: Path = WRITTEN,
    seed: int = 16,
    facts_asked: dict[str, int] | None = None,
) -> list[Corpus]:
    """The corpora of one split, with their same-language, cross-lingual and unanswerable questions, figure and
    fact; `facts_asked` caps the fact questions per article and family (default FACTS_ASKED)."""
    rng = random.Random(f"{seed}:{split}")
    fact_rng = random.Random(f"{seed}:{split}:fact")  # apart, so the figure questions drawn stay the same
    mine = [r for r in records if r.split == split]
    by_key = articles(mine)
    asked: dict[str, list[Record]] = defaultdict(list)
    facts: dict[str, list[Record]] = defaultdict(list)
    for r in mine:
        if r.figure_question and r.evidence is not None:
            asked[f"{r.source}:{r.title}"].append(r)
        elif r.fact_question:
            facts[f"{r.source}:{r.title}"].append(r)
    facts = {
        key: _sample(rows, (facts_asked or FACTS_ASKED)[_family(rows[0].source)], fact_rng)
        for key, rows in facts.items()
    }
    fact_cross = [row for row in _written(written, "fact-cross-*.jsonl") if row["split"] == split]
    fact_near = [row for row in _written(written, "fact-near-miss.jsonl") if row["split"] == split]
    cross = [row for row in _written(written, "cross-*.jsonl") if row["split"] == split]
    near = [row for row in _written(written, "near-miss.jsonl") if row["split"] == split]
    needed = {f"{row['source_file']}:{row['title']}" for row in cross + near}
    # Articles by family, those the hand-written questions need first, then the others shuffled.
    pools: dict[str, list[str]] = defaultdict(list)
    for key in sorted(by_key):
        if asked.get(key) or key in needed:
            pools[_family(by_key[key].source)].append(key)
    for keys in pools.values():
        rng.shuffle(keys)
        keys.sort(key=lambda k: k not in needed)
    corpora = []
    count = CORPORA[split]
    for number in range(count):
        kept: list[str] = []
        left_out: list[str] = []
        for family, (keep, leave) in SHAPE.items():
            keys = pools.get(family, [])
            share = len(keys) // count
            chunk = keys[number * share : (number + 1) * share]
            wanted = [k for k in chunk if k in needed]
            others = [k for k in chunk if k not in needed]
            leaving = min(leave, round(len(chunk) * leave / (keep + leave)))
            left_out += others[:leaving]
            kept += (wanted + others[leaving:])[: max(keep, len(wanted))]
        name = f"{split}-{number + 1}"
        questions = _same(kept, asked, by_key) + _unanswerable(left_out, asked, rng)
        questions += _cross(cross, kept, by_key, records) + _near(near, kept)
        questions += _facts(kept, facts, by_key) + _facts_out(left_out, facts)
        questions += _cross(fact_cross, kept, by_key, records, fact=True) + _near(fact_near, kept, fact=True)
        corpora.append(Corpus(name, split, [by_key[k] for k in kept], questions))
    return corpora


def ci_subset(records: Sequence[Record], written: Path = WRITTEN) -> Corpus:
    """A small corpus for the CI gate: the first articles of each family of the dev corpus, the questions about
    them, and some of the dev corpus's unanswerable ones."""
    (dev,) = build(records, "dev", written)
    kept: list[Article] = []
    for family, most in CI_SHAPE.items():
        kept += [a for a in dev.articles if _family(a.source) == family][:most]
    ids = {a.id for a in kept}
    near = [row for row in _written(written, "near-miss.jsonl") if row["split"] == "dev"]
    fact_near = [row for row in _written(written, "fact-near-miss.jsonl") if row["split"] == "dev"]
    left_out = [q for q in dev.questions if "-out-" in q["id"]][:30]
    facts_out = [q for q in dev.questions if "-outfact-" in q["id"]][:CI_FACTS_OUT]
    keys = [a.key for a in kept]
    questions = [q for q in dev.questions if q["document"] in ids] + left_out + _near(near, keys)
    questions += facts_out + _near(fact_near, keys, fact=True)
    return Corpus("ci-1", "ci", kept, questions)


def _same(kept: list[str], asked: dict[str, list[Record]], by_key: dict[str, Article]) -> list[dict[str, Any]]:
    return [_case(r, "same", r.question, r.lang, by_key[key].id) for key in kept for r in asked.get(key, [])]


def _unanswerable(left_out: list[str], asked: dict[str, list[Record]], rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for key in left_out:
        chosen = asked.get(key, [])
        most = ASKED_OUT[_family(key.split(":", 1)[0])]
        for r in rng.sample(chosen, min(most, len(chosen))):
            rows.append(_row(f"pub-{r.split}-out-{r.id}", r.question, r.lang, "unanswerable", [], None, None))
    return rows


def _cross(
    rows: list[dict[str, Any]],
    kept: list[str],
    by_key: dict[str, Article],
    records: Sequence[Record],
    fact: bool = False,
) -> list[dict[str, Any]]:
    index = {(r.source, r.id): r for r in records}
    cases = []
    for row in rows:
        key = f"{row['source_file']}:{row['title']}"
        r = index.get((row["source_file"], row["source_id"]))
        if key not in kept or r is None or r.evidence is None:
            continue
        if fact:  # the gold span, verbatim in the article's sentence
            answer = row.get("answer") or r.answer
            if _flat(answer) not in _flat(r.evidence):
                continue
            case = _fact_case(r, "cross", row["question"], row["lang"], by_key[key].id, answer)
            cases.append({**case, "id": f"pub-{r.split}-factcross-{row['lang']}-{r.id}"})
            continue
        case = _case(r, "cross", row["question"], row["lang"], by_key[key].id)
        cases.append({**case, "id": f"pub-{r.split}-cross-{row['lang']}-{r.id}"})
    return cases


def _near(rows: list[dict[str, Any]], kept: list[str], fact: bool = False) -> list[dict[str, Any]]:
    prefix = "factnear" if fact else "near"
    return [
        _row(
            f"pub-{row['split']}-{prefix}-{row.get('changed', 'other')}-{row['source_id']}",
            row["question"],
            row["lang"],
            "unanswerable",
            [],
            None,
            None,
            asks="fact" if fact else "figure",
        )
        for row in rows
        if f"{row['source_file']}:{row['title']}" in kept
    ]


def _sample(rows: list[Record], most: int, rng: random.Random) -> list[Record]:
    """At most `most` of the rows, drawn by `rng`, in their own order."""
    if len(rows) <= most:
        return rows
    chosen = set(rng.sample(range(len(rows)), most))
    return [r for i, r in enumerate(rows) if i in chosen]


def _facts(kept: list[str], facts: dict[str, list[Record]], by_key: dict[str, Article]) -> list[dict[str, Any]]:
    return [
        _fact_case(r, "same", r.question, r.lang, by_key[key].id, r.answer) for key in kept for r in facts.get(key, [])
    ]


def _facts_out(left_out: list[str], facts: dict[str, list[Record]]) -> list[dict[str, Any]]:
    return [
        _row(f"pub-{r.split}-outfact-{r.id}", r.question, r.lang, "unanswerable", [], None, None, asks="fact")
        for key in left_out
        for r in facts.get(key, [])
    ]


def _case(r: Record, kind: str, question: str, lang: str, document: str) -> dict[str, Any]:
    evidence = r.evidence
    return _row(f"pub-{r.split}-{kind}-{r.id}", question, lang, kind, [r.answer], evidence, document)


def _fact_case(r: Record, kind: str, question: str, lang: str, document: str, answer: str) -> dict[str, Any]:
    row = _row(f"pub-{r.split}-fact-{r.id}", question, lang, kind, [], r.evidence, document, asks="fact")
    return {**row, "answer": answer}


def _row(
    id_: str,
    question: str,
    lang: str,
    kind: str,
    figures: list[str],
    evidence: str | None,
    document: str | None,
    asks: str = "figure",
) -> dict[str, Any]:
    row = {
        "id": id_,
        "question": question,
        "lang": lang,
        "kind": kind,
        "figures": figures,
        "evidence": evidence,
        "document": document,
    }
    return row if asks == "figure" else {**row, "asks": asks}  # figure rows are written as before


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=[.;])\s+(?=[A-Z0-9\"“(])")


def _written(folder: Path, pattern: str) -> Iterator[dict[str, Any]]:
    for path in sorted(folder.glob(pattern)):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def write(corpus: Corpus, cache: Path = CACHE) -> tuple[Path, Path]:
    """The corpus as article files and a question file under `cache`; returns (articles folder, questions file)."""
    folder = cache / "corpora" / corpus.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for article in corpus.articles:
        title = json.dumps(article.title, ensure_ascii=False)
        body = "\n\n".join(article.paragraphs)
        (folder / f"{article.id}.txt").write_text(f"---\ntitle: {title}\nlang: {article.lang}\n---\n{body}\n", "utf-8")
    questions = cache / "questions" / f"{corpus.name}.jsonl"
    questions.parent.mkdir(parents=True, exist_ok=True)
    questions.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in corpus.questions), "utf-8")
    return folder, questions


def engine_for(corpus: str, folder: Path, cache: Path = CACHE, vectors: VectorCache | None = None) -> Engine:
    """An engine over one corpus, its store under `cache`, passages embedded once (vectors kept by text)."""
    from rag.engine import Engine
    from rag.settings import Settings

    data = cache / "stores" / corpus
    settings = Settings(data_dir=data, seeds_dir=folder, _env_file=None)  # type: ignore[call-arg]
    split = corpus.split("-")[0]
    embedder = CachedE5(embed_batch_size=settings.embed_batch_size).use(vectors or VectorCache(cache, f"e5-{split}"))
    return Engine(settings, embedder=embedder)


def run(corpora: Sequence[str], cache: Path = CACHE, progress: bool = True) -> list[Verdict]:
    """Ingest each written corpus (only new or changed articles are embedded) and judge every question."""
    from .dataset import load
    from .run import evaluate

    verdicts: list[Verdict] = []
    for name in corpora:
        vectors = VectorCache(cache, f"e5-{name.split('-')[0]}")
        engine = engine_for(name, cache / "corpora" / name, cache, vectors)
        report = engine.ingest()
        vectors.save()
        if progress:
            print(
                f"{name}: {len(report.added) + len(report.updated)} articles embedded, "
                f"{len(report.unchanged)} unchanged, {report.sentences_embedded} sentences",
                file=sys.stderr,
            )
        verdicts += evaluate(engine, load(cache / "questions" / f"{name}.jsonl").cases, progress=progress)
        engine.close()
    return verdicts


def by_kind_and_language(verdicts: Sequence[Verdict]) -> dict[str, Summary]:
    """Summaries per kind, per kind and language ("same/zh"), the same per kind of answer asked ("fact same/zh",
    "fact"), and overall."""
    groups: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        kind, lang, asks = v.case.kind, v.case.lang, v.case.asks
        for name in (kind, f"{kind}/{lang}", asks, f"{asks} {kind}", f"{asks} {kind}/{lang}"):
            groups[name].append(v)
    summaries = {name: summarize(group) for name, group in sorted(groups.items())}
    summaries["overall"] = summarize(verdicts)
    return summaries


def gate(data: Path = DATA, cache: Path = CACHE, update: bool = False, progress: bool = False) -> int:
    """The CI gate on the public suite's ci subset: 0 when correct-accuracy holds within the tolerance of
    evals/baseline-public.json (or the data are absent: then it says how to get them), 1 below it."""
    try:
        records = read(data)
    except FileNotFoundError as error:
        print(f"public suite skipped: {error}")
        return 0
    corpus = ci_subset(records)
    write(corpus, cache)
    summaries = by_kind_and_language(run([corpus.name], cache, progress=progress))
    print(f"\npublic suite, ci subset ({len(corpus.questions)} questions, {len(corpus.articles)} articles):")
    print(terminal({k: v for k, v in summaries.items() if "/" not in k}))
    if update:
        about = {"questions_file": "public suite: ci subset (evals/public.py)", "questions": len(corpus.questions)}
        baseline.write(PUBLIC_BASELINE, summaries, about)
        print(f"baseline rewritten: {PUBLIC_BASELINE}")
        return 0
    try:
        verdict = baseline.check(summaries["overall"], baseline.read(PUBLIC_BASELINE))
    except ValueError as error:
        print(error)
        return 1
    print(verdict.message)
    return 0 if verdict.passed else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.public build|run`; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m evals.public", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "run"])
    parser.add_argument("--data", type=Path, default=DATA, help="the development data folder (default: %(default)s)")
    parser.add_argument("--split", choices=SPLITS, action="append", help="split(s) to build or run (default: all)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="corpora, stores and vectors (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    gate_options = parser.add_mutually_exclusive_group()
    gate_options.add_argument("--check", action="store_true", help="run the ci subset; exit 1 below its baseline")
    gate_options.add_argument("--update-baseline", action="store_true", help="run the ci subset; rewrite its baseline")
    args = parser.parse_args(argv)
    if args.check or args.update_baseline:
        return gate(args.data, args.cache, update=args.update_baseline, progress=not args.no_progress)
    if args.command == "run":
        names = sorted(
            p.stem
            for p in (args.cache / "questions").glob("*.jsonl")
            if p.stem.split("-")[0] in (args.split or ["dev"])
        )
        if not names:
            print(f"no corpora in {args.cache}: run `python -m evals.public build` first", file=sys.stderr)
            return 2
        summaries = by_kind_and_language(run(names, args.cache, not args.no_progress))
        print(terminal(summaries))
        return 0
    try:
        records = read(args.data)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    for split in args.split or SPLITS:
        for corpus in [ci_subset(records)] if split == "ci" else build(records, split):
            folder, questions = write(corpus, args.cache)
            kinds: dict[str, int] = defaultdict(int)
            for q in corpus.questions:
                kinds[f"{q['kind']}/{q['lang']}"] += 1
            paragraphs = sum(len(a.paragraphs) for a in corpus.articles)
            print(
                f"{corpus.name}: {len(corpus.articles)} articles, {paragraphs} paragraphs; "
                + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
