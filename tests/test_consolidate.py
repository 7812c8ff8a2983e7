"""Consolidation of the demo inbox: the seed story, supersession, duplicates, locked periods,
rejected files, idempotence — and the inbox is never changed."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import date, datetime

import pandas as pd
import pytest

from xlmonitor.consolidation.merge import DATA_COLUMNS, REGISTER_COLUMNS, consolidate
from xlmonitor.periods import periods_between
from xlmonitor.programme.definition import load_programme


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture(scope="module")
def result(demo_inbox, programme):
    return consolidate(demo_inbox, programme)


def checksums(folder):
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())}


def status(result, name):
    return result.register.set_index("Bestand").at[name, "Status"]


def test_tables_have_the_contract_columns(result):
    assert list(result.data.columns) == DATA_COLUMNS
    assert list(result.register.columns) == REGISTER_COLUMNS
    assert not result.data.duplicated(["Gemeente", "Periode", "Projectcode"]).any()


def test_seed_story(result):
    data = result.data
    zorgstart = data[(data["Projectcode"] == "ZORGSTART") & (data["Periode"] <= "2021-Q2")]
    assert zorgstart[["Aanmeldingen", "Gestarte trajecten", "Bemiddeld naar werk"]].sum(
    ).tolist() == [279, 142, 43]
    cumulative = data.groupby("Periode")[["Gestarte trajecten", "Bemiddeld naar werk"]].sum(
    ).cumsum()
    assert 235 <= cumulative.at["2021-Q1", "Gestarte trajecten"] <= 260  # "ruim 240"
    assert 370 <= cumulative.at["2021-Q2", "Gestarte trajecten"] <= 410  # 385 by June 2021
    assert 140 <= cumulative.at["2021-Q3", "Bemiddeld naar werk"] <= 165  # "circa 150"
    assert cumulative.at["2022-Q2", "Bemiddeld naar werk"] > 300  # "ruim 300"


def test_only_the_deliberate_mistakes_give_findings(result):
    by_file = sorted((f.file, f.code) for f in result.findings)
    assert by_file == [
        ("Hilversum Q1 2021 rapportage WaW (concept).xlsx", "project-onbekend"),
        ("Hilversum Q1 2021 rapportage WaW (concept).xlsx", "totaal-klopt-niet"),
        ("Kopie van Monitor_Laren_2021-Q3.xlsx", "dubbel-bestand"),
        ("Monitor_Eemnes_2021-Q2_v1.xlsx", "geen-geheel-getal"),
        ("Monitor_Eemnes_2021-Q2_v1.xlsx", "negatief-getal"),
        ("Monitor_Wijdemeren_2020-Q4_correctie.xlsx", "periode-vergrendeld"),
        ("lees mij.txt", "bestand-geen-spreadsheet"),
    ]
    suggestion = next(f for f in result.findings if f.code == "project-onbekend")
    assert (suggestion.sheet, suggestion.cell) == ("Rapportage Q1 2021", "A7")
    assert "Bedoelde u 'ZorgStart'?" in suggestion.message


def test_rejected_file_never_enters_the_data(result):
    assert status(result, "Monitor_Eemnes_2021-Q2_v1.xlsx") == "afgekeurd"
    assert status(result, "Monitor_Eemnes_2021-Q2.xlsx") == "ontvangen"
    assert "Monitor_Eemnes_2021-Q2_v1.xlsx" not in set(result.data["Bestand"])
    assert status(result, "Hilversum Q1 2021 rapportage WaW (concept).xlsx") == "afgekeurd"


def test_newest_submission_wins_and_older_is_superseded(result):
    name = "Monitor_Blaricum_2021-Q4_concept.xlsx"
    assert status(result, name) == "vervangen"
    register = result.register.set_index("Bestand")
    assert register.at[name, "Vervangen door"] == "Monitor_Blaricum_2021-Q4.xlsx"
    rows = result.data[(result.data["Gemeente"] == "Blaricum")
                       & (result.data["Periode"] == "2021-Q4")]
    assert set(rows["Bestand"]) == {"Monitor_Blaricum_2021-Q4.xlsx"}


def test_identical_files_count_once(result):
    assert status(result, "Kopie van Monitor_Laren_2021-Q3.xlsx") == "dubbel"
    laren = result.data[(result.data["Gemeente"] == "Laren")
                        & (result.data["Periode"] == "2021-Q3")]
    assert set(laren["Bestand"]) == {"Monitor_Laren_2021-Q3.xlsx"}


def test_locked_period_is_not_changed(result):
    assert status(result, "Monitor_Wijdemeren_2020-Q4_correctie.xlsx") == "vergrendeld"
    rows = result.data[(result.data["Gemeente"] == "Wijdemeren")
                       & (result.data["Periode"] == "2020-Q4")]
    assert set(rows["Bestand"]) == {"Monitor_Wijdemeren_2020-Q4.xlsx"}


def test_register_matrix_shows_what_is_missing(result):
    # Every quarter of the programme (2020-Q3 … 2023-Q4), not only those reported so far.
    assert result.periods == list(result.matrix.columns) == periods_between("2020-Q3",
                                                                            "2023-Q4")
    assert result.matrix.at["Eemnes", "2022-Q2"] == "ontbreekt"
    reported = result.matrix.loc[:, :"2022-Q2"].drop(columns="2022-Q2")
    assert (reported == "ontvangen").all().all()
    # After the last quarter anyone delivered: not yet due, not missing.
    assert (result.matrix.loc[:, "2022-Q3":] == "later").all().all()
    assert result.peilperiode == "2022-Q1"  # latest quarter every municipality delivered
    skipped = result.register[result.register["Status"] == "overgeslagen"]["Bestand"]
    assert sorted(skipped) == ["lees mij.txt", "~$Monitor_Laren_2022-Q2.xlsx"]


def test_a_quarter_becomes_due_when_someone_delivers_it(tmp_path, programme, demo_inbox):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(demo_inbox / "Monitor_Laren_2021-Q3.xlsx", inbox)
    result = consolidate(inbox, programme)
    matrix = result.matrix
    assert matrix.at["Laren", "2021-Q3"] == "ontvangen"
    assert (matrix.drop(index="Laren").loc[:, :"2021-Q3"] == "ontbreekt").all().all()
    assert (matrix.loc[:, "2021-Q4":] == "later").all().all()
    assert result.peilperiode == "2021-Q3"  # nobody complete: the last quarter reported
    empty = tmp_path / "leeg"
    empty.mkdir()
    nothing = consolidate(empty, programme)
    assert nothing.peilperiode == "2020-Q3"  # the first quarter, not the programme's last
    assert nothing.matrix["2020-Q3"].eq("ontbreekt").all()
    assert (nothing.matrix.loc[:, "2020-Q4":] == "later").all().all()
    # A rejected file shows in its own cell, but does not make its quarter due for the others
    # (its quarter may be the mistake).
    rejected = tmp_path / "afgekeurd"
    rejected.mkdir()
    shutil.copy2(demo_inbox / "Monitor_Eemnes_2021-Q2_v1.xlsx", rejected)
    matrix = consolidate(rejected, programme).matrix
    assert matrix.at["Eemnes", "2021-Q2"] == "afgekeurd"
    assert (matrix.drop(index="Eemnes")["2021-Q2"] == "later").all()
    assert matrix["2020-Q3"].eq("ontbreekt").all()


def test_provenance_points_at_cells(result):
    row = result.data[(result.data["Gemeente"] == "Hilversum")
                      & (result.data["Periode"] == "2021-Q3")
                      & (result.data["Projectcode"] == "ZORGSTART")].iloc[0]
    assert row["Bestand"] == "Hilversum Q3 2021 rapportage WaW.xlsx"
    assert row["Blad"] == "Rapportage Q3 2021"
    assert row["Cellen"] == "B7:E7"
    assert len(row["sha256"]) == 64
    gm = result.data[(result.data["Gemeente"] == "Gooise Meren")].iloc[0]
    assert gm["Cellen"].count(",") == 3  # long export: one cell per indicator row


def test_rerun_gives_the_same_result_and_leaves_the_inbox_alone(demo_inbox, programme,
                                                               result):
    before = checksums(demo_inbox)
    again = consolidate(demo_inbox, programme)
    assert checksums(demo_inbox) == before
    pd.testing.assert_frame_equal(again.data, result.data)
    pd.testing.assert_frame_equal(again.register, result.register)
    assert [f.as_dict() for f in again.findings] == [f.as_dict() for f in result.findings]


def test_order_of_files_on_disk_does_not_matter(demo_inbox, programme, result, tmp_path):
    copy = tmp_path / "inbox"
    names = sorted(p.name for p in demo_inbox.iterdir())
    copy.mkdir()
    for name in reversed(names):  # different creation order
        shutil.copy2(demo_inbox / name, copy / name)
    again = consolidate(copy, programme)
    pd.testing.assert_frame_equal(again.data, result.data)


def test_file_time_decides_when_no_filled_in_date(tmp_path, programme, demo_inbox):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("Hilversum Q3 2021 rapportage WaW.xlsx",):
        shutil.copy2(demo_inbox / name, inbox / name)
    from openpyxl import load_workbook
    newer = inbox / "Hilversum Q3 2021 rapportage WaW (nieuw).xlsx"
    book = load_workbook(demo_inbox / "Hilversum Q3 2021 rapportage WaW.xlsx")
    sheet = book.worksheets[0]
    sheet["B7"] = sheet["B7"].value + 1
    book.save(newer)
    stamp = datetime(2021, 11, 1, 9, 0).timestamp()
    os.utime(newer, (stamp, stamp))
    result = consolidate(inbox, programme)
    assert status(result, "Hilversum Q3 2021 rapportage WaW.xlsx") == "vervangen"
    assert status(result, newer.name) == "ontvangen"


def test_a_broken_file_does_not_stop_the_others(tmp_path, programme, demo_inbox):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(demo_inbox / "Monitor_Laren_2021-Q3.xlsx", inbox)
    (inbox / "kapot.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (inbox / "leeg.xlsx").write_bytes(b"")
    result = consolidate(inbox, programme)
    assert status(result, "Monitor_Laren_2021-Q3.xlsx") == "ontvangen"
    assert status(result, "kapot.xlsx") == "afgekeurd"
    assert status(result, "leeg.xlsx") == "afgekeurd"
    assert len(result.data) > 0
    assert result.matrix.at["Laren", "2021-Q3"] == "ontvangen"
    assert date(2021, 9, 30) in set(result.data["Kwartaaleinde"])
