"""The cache of validated submissions: a re-run reads only new and changed files, and gives
exactly the consolidation a run without cache gives."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlmonitor.cli import _run_settings, build_parser
from xlmonitor.consolidation.cache import FOLDER_NAME, SubmissionCache, cache_context
from xlmonitor.consolidation.merge import consolidate, inbox_files
from xlmonitor.errors import UsageError
from xlmonitor.intake.layouts import load_layouts
from xlmonitor.intake.read import read_submission
from xlmonitor.programme.definition import load_programme
from xlmonitor.run.settings import Settings, read_settings_file
from xlmonitor.template.standard import METADATA_SHEET
from xlmonitor.validation.checks import validate_submission


@dataclass
class CountingReader:
    """read_submission that remembers which files it read."""

    read: list[str] = field(default_factory=list)

    def __call__(self, path, programme, layouts=None):
        self.read.append(Path(path).name)
        return read_submission(path, programme, layouts)


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture(scope="module")
def uncached(demo_inbox, programme):
    return consolidate(demo_inbox, programme)


@pytest.fixture
def inbox(demo_inbox, tmp_path):
    copy = tmp_path / "inbox"
    shutil.copytree(demo_inbox, copy)  # copytree keeps modification times
    return copy


def spreadsheets(inbox: Path) -> list[str]:
    return [p.name for p in inbox_files(inbox)[0]]


def assert_same(left, right):
    for table in ("data", "register", "matrix"):
        pd.testing.assert_frame_equal(getattr(left, table), getattr(right, table))
    assert left.findings == right.findings
    assert [f.params for f in left.findings] == [f.params for f in right.findings]
    assert (left.periods, left.peilperiode) == (right.periods, right.peilperiode)
    assert list(left.validations) == list(right.validations)


def test_rerun_reads_only_the_new_file(inbox, tmp_path, programme, uncached):
    cache = tmp_path / "master" / FOLDER_NAME
    reader = CountingReader()
    first = consolidate(inbox, programme, reader=reader, cache=cache)
    assert reader.read == spreadsheets(inbox)
    assert_same(first, uncached)

    assert first.matrix.at["Eemnes", "2022-Q2"] == "ontbreekt"
    new = inbox / "Monitor_Eemnes_2022-Q2.xlsx"  # the demo's missing quarter arrives
    shutil.copyfile(inbox / "Monitor_Eemnes_2022-Q1.xlsx", new)
    book = openpyxl.load_workbook(new)
    book["Invoer"]["B4"] = "2022-Q2"
    # The template's hidden metadata names its quarter too: B4 alone differing from it would
    # be an overtyped template (sjabloon-gewijzigd, rejected), not a new quarter.
    metadata = book[METADATA_SHEET]
    row = next(r for r in metadata.iter_rows(max_col=2) if r[0].value == "periode")
    row[1].value = "2022-Q2"
    book.save(new)
    reader.read.clear()
    second = consolidate(inbox, programme, reader=reader, cache=cache)
    assert reader.read == [new.name]
    assert second.matrix.at["Eemnes", "2022-Q2"] == "ontvangen"
    assert_same(second, consolidate(inbox, programme))

    reader.read.clear()
    assert_same(consolidate(inbox, programme, reader=reader, cache=cache), second)
    assert reader.read == []


def test_changed_and_renamed_files_are_read_again(inbox, tmp_path, programme):
    cache = tmp_path / FOLDER_NAME
    consolidate(inbox, programme, cache=cache)
    changed = inbox / "Monitor_Laren_2021-Q3.xlsx"
    book = openpyxl.load_workbook(changed)
    book["Invoer"]["C8"] = 99
    book.save(changed)
    (inbox / "Huizen_monitor_2021.xlsx").rename(inbox / "Huizen monitor 2021.xlsx")
    reader = CountingReader()
    result = consolidate(inbox, programme, reader=reader, cache=cache)
    # The name is part of the key: findings name the file, layouts read names.
    assert sorted(reader.read) == ["Huizen monitor 2021.xlsx", "Monitor_Laren_2021-Q3.xlsx"]
    assert_same(result, consolidate(inbox, programme))


def test_modification_time_is_the_files_not_the_caches(inbox, tmp_path, programme):
    """Without a filled-in date the file time is the submission date: it must be read from
    the file on every run, also when the content comes from the cache."""
    cache = tmp_path / FOLDER_NAME
    consolidate(inbox, programme, cache=cache)
    name = "Hilversum Q1 2021 rapportage WaW (concept).xlsx"  # older than the final report
    later = datetime(2022, 12, 1, 10, 0).timestamp()
    os.utime(inbox / name, (later, later))
    reader = CountingReader()
    result = consolidate(inbox, programme, reader=reader, cache=cache)
    assert reader.read == []
    register = result.register.set_index("Bestand")
    assert register.at[name, "Gewijzigd"] == datetime(2022, 12, 1, 10, 0)
    assert_same(result, consolidate(inbox, programme))


def test_damaged_entries_are_misses(inbox, tmp_path, programme, uncached):
    cache = tmp_path / FOLDER_NAME
    consolidate(inbox, programme, cache=cache)
    entries = sorted(cache.glob("*.json.gz"))
    assert len(entries) == len(spreadsheets(inbox))
    entries[0].write_bytes(b"not gzip")
    entries[1].write_bytes(entries[1].read_bytes()[:50])  # cut off
    entries[2].write_bytes(gzip.compress(b'{"format": 1, "key": "someone else"}'))
    document = json.loads(gzip.decompress(entries[3].read_bytes()))
    document["validation"]["rows"]["dtypes"] = ["no such dtype"] * 15
    entries[3].write_bytes(gzip.compress(json.dumps(document).encode()))
    reader = CountingReader()
    result = consolidate(inbox, programme, reader=reader, cache=cache)
    assert len(reader.read) == 4
    assert_same(result, uncached)
    reader.read.clear()
    consolidate(inbox, programme, reader=reader, cache=cache)  # rewritten whole
    assert reader.read == []


def test_key_includes_the_programme_and_layouts(inbox, tmp_path, programme):
    cache = tmp_path / FOLDER_NAME
    consolidate(inbox, programme, cache=cache)
    edited = replace(programme, digest="0" * 64)  # another programma.xlsx
    reader = CountingReader()
    consolidate(inbox, edited, reader=reader, cache=cache)
    assert reader.read == spreadsheets(inbox)
    assert cache_context(programme) == cache_context(programme, layouts=load_layouts())
    assert cache_context(programme) != cache_context(programme, layouts=load_layouts()[:1])


def test_entry_round_trips_values_with_their_types(demo_inbox, tmp_path, programme):
    cache = SubmissionCache(tmp_path / FOLDER_NAME)
    context = cache_context(programme)
    for path in inbox_files(demo_inbox)[0]:
        fresh = validate_submission(read_submission(path, programme), programme)
        assert cache.store(cache.lookup(path, context), fresh)
        hit = cache.lookup(path, context).validation
        assert hit is not None
        for left, right in ((fresh.rows, hit.rows), (fresh.submission.rows, hit.submission.rows),
                            (fresh.submission.totals, hit.submission.totals)):
            pd.testing.assert_frame_equal(left, right, check_column_type=True)
            for column in left.columns:
                assert list(map(type, left[column])) == list(map(type, right[column])), column
        for name in ("path", "sha256", "size", "modified", "submitted_on", "layout", "sheet",
                     "municipality", "municipality_cell", "template_version"):
            assert getattr(fresh.submission, name) == getattr(hit.submission, name), name
        assert fresh.findings == hit.findings
        assert fresh.submission.findings == hit.submission.findings


def test_frames_decode_the_same_without_the_fast_constructor(demo_inbox, tmp_path, programme,
                                                              monkeypatch):
    """Entries are decoded with pandas' DataFrame._from_arrays (internal, twice as fast);
    a pandas without it must give the same frames the public way."""
    cache = SubmissionCache(tmp_path / FOLDER_NAME)
    context = cache_context(programme)
    paths = inbox_files(demo_inbox)[0][:6]
    for path in paths:
        cache.store(cache.lookup(path, context),
                    validate_submission(read_submission(path, programme), programme))
    fast = [cache.lookup(path, context).validation for path in paths]
    monkeypatch.delattr(pd.DataFrame, "_from_arrays")
    public = [cache.lookup(path, context).validation for path in paths]
    assert all(v is not None for v in fast + public)
    for left, right in zip(fast, public, strict=True):
        for a, b in ((left.rows, right.rows), (left.submission.rows, right.submission.rows)):
            pd.testing.assert_frame_equal(a, b, check_column_type=True)
            assert list(a.dtypes) == list(b.dtypes)


def test_personal_data_is_never_cached(inbox, tmp_path, programme):
    path = inbox / "Monitor_Laren_2021-Q3.xlsx"
    book = openpyxl.load_workbook(path)
    book["Invoer"]["G8"] = "Gesproken met cliënt, BSN 123456782"
    book.save(path)
    cache = tmp_path / FOLDER_NAME
    consolidate(inbox, programme, cache=cache)
    reader = CountingReader()
    consolidate(inbox, programme, reader=reader, cache=cache)
    assert reader.read == [path.name]
    assert all(b"123456782" not in gzip.decompress(p.read_bytes()) for p in cache.iterdir()
               if p.name.endswith(".json.gz"))


def test_cache_is_never_in_the_inbox(inbox, programme, tmp_path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    with pytest.raises(UsageError, match="inbox"):
        consolidate(inbox, programme, cache=inbox / FOLDER_NAME)
    settings = Settings(inbox=inbox, master=tmp_path / "master.xlsx", cache=inbox / "c")
    with pytest.raises(UsageError, match="cachemap"):
        settings.check()
    consolidate(inbox, programme, cache=tmp_path / FOLDER_NAME)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in inbox.iterdir()} == before


def test_prune_removes_old_unused_entries_only(inbox, tmp_path, programme):
    folder = tmp_path / FOLDER_NAME
    consolidate(inbox, programme, cache=folder)
    stale = folder / f"{'0' * 64}.json.gz"
    stale.write_bytes(b"old")
    leftover = folder / ".x.json.gz.1.abcd.tmp"
    leftover.write_bytes(b"")
    old = datetime(2020, 1, 1).timestamp()
    for path in folder.iterdir():
        os.utime(path, (old, old))
    consolidate(inbox, programme, cache=folder)
    names = {p.name for p in folder.iterdir()}
    assert stale.name not in names and leftover.name not in names
    assert len([n for n in names if n.endswith(".json.gz")]) == len(spreadsheets(inbox))
    assert "LEESMIJ.txt" in names


def test_settings_switch_the_cache_on(tmp_path):
    master = tmp_path / "master.xlsx"
    assert Settings(inbox=tmp_path, master=master).cache is False
    assert Settings(inbox=tmp_path, master=master, cache=True).cache == tmp_path / FOLDER_NAME
    toml = tmp_path / "xlmonitor.toml"
    toml.write_text('cache = true\ntaken = 3\n', encoding="utf-8")
    assert read_settings_file(toml) == {"cache": True, "jobs": 3}
    toml.write_text('cache = "tussenresultaten"\n', encoding="utf-8")
    assert read_settings_file(toml) == {"cache": tmp_path / "tussenresultaten"}
    elsewhere = tmp_path / "master" / "master.xlsx"  # no xlmonitor.toml beside it
    base = ["consolidate", str(tmp_path), "-o", str(elsewhere)]
    for options, expected in (([], False), (["--cache"], elsewhere.parent / FOLDER_NAME),
                              (["--cache-map", str(tmp_path / "c")], tmp_path / "c"),
                              (["--geen-cache"], False)):
        assert _run_settings(build_parser().parse_args(base + options)).cache == expected


def test_nightly_command_repeats_the_cache(tmp_path):
    from xlmonitor.run.schedule import schedule_commands

    settings = Settings(inbox=tmp_path / "inbox", master=tmp_path / "master.xlsx", cache=True)
    assert f"--cache-map {tmp_path / FOLDER_NAME}" in schedule_commands(settings)["cron"]


def test_scheduled_run_uses_the_cache_beside_the_master(demo_inbox, tmp_path):
    from xlmonitor.run.schedule import run_consolidation

    master = tmp_path / "master.xlsx"
    settings = Settings(inbox=demo_inbox, master=master, cache=True, jobs=1, settle=0)
    run_consolidation(settings)
    again = run_consolidation(settings)
    assert not again.changed
    log = settings.log.read_text("utf-8").splitlines()
    count = len(spreadsheets(demo_inbox))
    assert any(f"cache: {count} bestand(en) uit de cache, 0 gelezen" in line for line in log)
    assert (tmp_path / FOLDER_NAME / "LEESMIJ.txt").is_file()
