"""The record of what the store holds, kept outside Chroma: a store that comes back empty or smaller is damaged
(never refilled from the seeds), and only a data directory that never held anything gets the seeds (issue #20.3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.cli import main
from rag.engine import Engine
from rag.ledger import Ledger
from rag.settings import Settings
from rag.store import REBUILD, DamagedStore, StoredArticle
from tests.conftest import SEEDS, CountingE5


@pytest.fixture
def stored(fresh_settings: Settings, tmp_path: Path) -> Settings:
    """A data directory holding the two seed articles and one article of another folder, closed."""
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, fresh_settings.seeds_dir / path.name)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "park.txt").write_text("The medical device park has landed 44 quality projects.", encoding="utf-8")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    engine.ingest(mine)
    engine.close()
    return fresh_settings


def emptied(settings: Settings) -> None:
    """Empty the store's database, as a disk fault or a stray command would: Chroma then opens an empty store."""
    database = settings.data_dir / "chroma" / "chroma.sqlite3"
    database.write_bytes(b"")


def test_the_record_follows_writes_and_removals(fresh_settings: Settings) -> None:
    folder = fresh_settings.seeds_dir
    (folder / "a.txt").write_text("The pier is 300 metres long. It was built in 1931.", encoding="utf-8")
    (folder / "b.txt").write_text("The ferry carries 2,600 people a day. It runs every hour.", encoding="utf-8")
    engine = Engine(fresh_settings, embedder=CountingE5())
    engine.ingest()
    ledger = engine.store.ledger
    assert ledger is not None
    held = ledger.read()
    assert held is not None and held.articles == 2 and held.origins == {str(folder.resolve()): 2}
    record = json.loads(ledger.path.read_text(encoding="utf-8"))
    assert ledger.path.parent == fresh_settings.data_dir and record["articles"] == 2
    (folder / "b.txt").unlink()
    engine.ingest(prune=True)
    after = ledger.read()
    assert after is not None and after.articles == 1 and after.digest != held.digest
    expected = Ledger(fresh_settings.data_dir / "other.json", "embedded").reset(engine.store.manifest().values())
    assert after.digest == expected.digest  # kept up to date change by change, equal to one made from the manifest


def test_an_emptied_store_is_damaged_not_refilled_with_the_seeds(stored: Settings) -> None:
    emptied(stored)
    engine = Engine(stored, embedder=CountingE5())
    with pytest.raises(DamagedStore, match=r"holds 0 articles where 3 were recorded") as caught:
        engine.ask("How many quality projects has the park landed?")
    assert str(caught.value).endswith(f"{REBUILD}.")
    with pytest.raises(DamagedStore):
        engine.ingest()  # an ingest would bury the damage under new records
    assert engine.store.count() == 0 and isinstance(engine.embedder, CountingE5) and engine.embedder.texts == 0


def test_a_store_smaller_than_recorded_is_damaged(stored: Settings) -> None:
    engine = Engine(stored, embedder=CountingE5())
    engine.store.articles.delete(ids=["park"])  # a manifest entry lost behind the engine's back
    engine.close()
    with pytest.raises(DamagedStore, match="holds 2 articles where 3 were recorded"):
        len(Engine(stored, embedder=CountingE5()).index)


def test_the_command_names_the_damage_and_the_rebuild_restores_every_folder(
    stored: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emptied(stored)
    monkeypatch.setenv("RAG_DATA_DIR", str(stored.data_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(stored.seeds_dir))
    assert main(["ask", "How many quality projects has the park landed?"]) == 2  # a store error
    err = capsys.readouterr().err
    assert "is damaged" in err and "rag ingest --rebuild" in err and "First start" not in err
    assert main(["ingest", "--rebuild"]) == 0
    capsys.readouterr()
    engine = Engine(stored, embedder=CountingE5())
    assert sorted(engine.store.manifest()) == ["park", "suzhou-high-tech-zone-zh", "suzhou-organizational-work-en"]
    assert "44" in engine.ask("How many quality projects has the medical device park landed?").text


def test_a_store_from_before_records_is_damaged_when_its_index_remembers_articles(stored: Settings) -> None:
    for record in stored.data_dir.glob("holdings-*.json"):
        record.unlink()
    emptied(stored)
    with pytest.raises(DamagedStore, match="keyword index lists 3"):
        len(Engine(stored, embedder=CountingE5()).index)


def test_a_store_from_before_records_gets_one(stored: Settings) -> None:
    for record in stored.data_dir.glob("holdings-*.json"):
        record.unlink()
    engine = Engine(stored, embedder=CountingE5())
    assert len(engine.index)
    ledger = engine.store.ledger
    assert ledger is not None
    held = ledger.read()
    assert held is not None and held.articles == 3


def test_only_a_directory_that_never_held_anything_gets_the_seeds_and_it_says_so(fresh_settings: Settings) -> None:
    shutil.copy(SEEDS / "suzhou-high-tech-zone-zh.txt", fresh_settings.seeds_dir / "zh.txt")
    told: list[str] = []
    engine = Engine(fresh_settings, embedder=CountingE5(), notice=told.append)
    assert not engine.ask("医疗器械产业园落地了多少个优质项目？").found  # opening the store ingests nothing
    assert told == [] and engine.store.count() == 0
    report = engine.first_start()
    assert report is not None and report.added == ["zh"]
    assert engine.ask("医疗器械产业园落地了多少个优质项目？").found
    assert len(told) == 2 and told[0].startswith("First start: ingesting the seed articles from")
    assert "1 seed articles ingested" in told[1]
    assert engine.first_start() is None and len(told) == 2  # once
    engine.store.remove("zh")  # the reader removes every article: the directory has held something
    engine.close()
    again: list[str] = []
    later = Engine(fresh_settings, embedder=CountingE5(), notice=again.append)
    assert later.first_start() is None
    assert not later.ask("医疗器械产业园落地了多少个优质项目？").found and again == []
    assert later.store.count() == 0


def test_an_unreadable_record_is_no_fresh_start(stored: Settings) -> None:
    for record in stored.data_dir.glob("holdings-*.json"):
        record.write_text("{not json", encoding="utf-8")
    emptied(stored)
    with pytest.raises(DamagedStore, match="record of what it held cannot be read"):
        len(Engine(stored, embedder=CountingE5()).index)


def test_an_entry_hash_depends_on_id_and_digest(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "record.json", "embedded")
    a = StoredArticle("a", "1", "A", "en", 3, origin="upload")
    b = StoredArticle("b", "2", "B", "en", 3, origin="upload")
    both = ledger.reset([a, b])
    ledger.change(removed=[b])
    ledger.change(added=[b])
    again = ledger.read()
    assert again is not None and again.digest == both.digest and again.articles == 2
    assert Ledger(tmp_path / "record.json", "http://127.0.0.1:8000").read() is None  # another store's record
