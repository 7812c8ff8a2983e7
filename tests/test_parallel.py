"""Parallel intake: ``consolidate(jobs=N)`` reads in worker processes and gives exactly the
result of one job, in the same order; files still arriving are caught in the workers too."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import pandas as pd
import pytest

from xlmonitor.cli import build_parser
from xlmonitor.consolidation.arrival import ArrivalGuard
from xlmonitor.consolidation.merge import consolidate, inbox_files
from xlmonitor.errors import UsageError
from xlmonitor.intake.read import read_submission
from xlmonitor.programme.definition import load_programme
from xlmonitor.run.settings import Settings, default_jobs

reading = import_module("xlmonitor.consolidation.reading")


@dataclass
class PidReader:
    """read_submission that leaves a mark per process that read (picklable for spawn)."""

    folder: Path

    def __call__(self, path, programme, layouts=None):
        (self.folder / str(os.getpid())).touch()
        return read_submission(path, programme, layouts)


@dataclass
class DyingReader:
    """Kills the worker process that reads ``victim``; the main process reads it fine."""

    victim: str
    parent: int

    def __call__(self, path, programme, layouts=None):
        if Path(path).name == self.victim and os.getpid() != self.parent:
            os._exit(1)
        return read_submission(path, programme, layouts)


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture(scope="module")
def one_job(demo_inbox, programme):
    return consolidate(demo_inbox, programme, jobs=1)


def assert_same(left, right):
    for table in ("data", "register", "matrix"):
        pd.testing.assert_frame_equal(getattr(left, table), getattr(right, table))
    assert left.findings == right.findings
    assert list(left.validations) == list(right.validations)
    assert left.file_findings == right.file_findings


def test_two_jobs_give_the_same_result_in_the_same_order(demo_inbox, programme, one_job, tmp_path):
    marks = tmp_path / "pids"
    marks.mkdir()
    done = []
    result = consolidate(demo_inbox, programme, jobs=2, reader=PidReader(marks),
                         progress=done.append)
    assert_same(result, one_job)
    pids = {int(p.name) for p in marks.iterdir()}
    assert os.getpid() not in pids and len(pids) == 2  # read in two worker processes
    assert sorted(done) == inbox_files(demo_inbox)[0]  # progress in this process, once per file


def test_spawned_workers_as_on_windows(demo_inbox, programme, one_job, monkeypatch):
    monkeypatch.setattr(reading, "_pool_context",
                        lambda: multiprocessing.get_context("spawn"))
    assert_same(consolidate(demo_inbox, programme, jobs=2), one_job)


def test_a_worker_that_dies_leaves_its_files_to_the_main_process(demo_inbox, programme, one_job):
    reader = DyingReader("Monitor_Laren_2021-Q3.xlsx", os.getpid())
    assert_same(consolidate(demo_inbox, programme, jobs=2, reader=reader), one_job)


def test_arrival_guard_runs_in_the_workers(demo_inbox, programme, tmp_path):
    copy = tmp_path / "inbox"
    shutil.copytree(demo_inbox, copy)
    arriving = copy / "Monitor_Laren_2022-Q2.xlsx"
    arriving.write_bytes(arriving.read_bytes()[:3000])  # half copied, just now
    now = time.time()
    os.utime(arriving, (now, now))
    guard = ArrivalGuard(settle=60)
    register = consolidate(copy, programme, jobs=2, reader=guard).register.set_index("Bestand")
    assert register.at[arriving.name, "Status"] == "in aanvoer"
    single = consolidate(copy, programme, jobs=1, reader=guard).register
    pd.testing.assert_frame_equal(register.reset_index(), single)


def test_few_files_are_read_without_starting_workers(demo_inbox, programme, tmp_path):
    small = tmp_path / "inbox"
    small.mkdir()
    for name in ("Monitor_Laren_2021-Q3.xlsx", "Monitor_Blaricum_2021-Q3.xlsx"):
        shutil.copy2(demo_inbox / name, small / name)
    marks = tmp_path / "pids"
    marks.mkdir()
    consolidate(small, programme, jobs=2, reader=PidReader(marks))
    assert {int(p.name) for p in marks.iterdir()} == {os.getpid()}


def test_jobs_setting_and_option(tmp_path):
    assert Settings(inbox=tmp_path, master=tmp_path / "m.xlsx").jobs == default_jobs() >= 1
    args = build_parser().parse_args(["consolidate", "inbox", "-o", "m.xlsx", "--jobs", "3"])
    assert args.jobs == 3
    with pytest.raises(UsageError, match="--jobs"):
        build_parser().parse_args(["consolidate", "inbox", "-o", "m.xlsx", "--jobs", "0"])
