"""End to end: ``xlmonitor demo`` as a user runs it, its dashboard recalculated by LibreOffice
and compared with the demo's *generator* — the figures the municipalities were given to
report — so intake, validation, consolidation and publishing are all checked at once, against
something none of them computed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pandas as pd
import pytest
from synthetic import (
    _frame,
    _row,
    independent_figures,
    make_consolidation,
    mismatches,
    read_table,
    set_peilperiode_in_file,
    table_refs,
)

from xlmonitor import libreoffice
from xlmonitor.demo import NOT_DELIVERED, PERIODS, allocate, write_demo_inbox
from xlmonitor.programme.definition import INDICATOR_CODES, load_programme


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "xlmonitor-demo"
    result = subprocess.run([sys.executable, "-m", "xlmonitor.cli", "demo", str(folder)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return folder, result.stdout


@pytest.fixture(scope="module")
def truth(programme):
    """What the municipalities were told to report, minus what was never delivered."""
    figures = allocate(programme)
    rows = []
    for (municipality, period, code), counts in sorted(figures.items()):
        if (municipality, period) in NOT_DELIVERED:
            continue
        rows.append(_row(programme, municipality, period, code,
                         programme.projects.at[code, "naam"],
                         [counts[c] for c in INDICATOR_CODES], ""))
    return make_consolidation(programme, _frame(rows), PERIODS)


def test_demo_says_where_its_output_went(demo):
    folder, stdout = demo
    assert f"Master: {(folder / 'master.xlsx').resolve()}" in stdout
    assert (folder / "master.xlsx").is_file()
    assert sorted(p.name for p in (folder / "terugkoppeling").iterdir()) == [
        "Hilversum Q1 2021 rapportage WaW (concept).controle.xlsx",
        "Kopie van Monitor_Laren_2021-Q3.controle.xlsx",
        "Monitor_Eemnes_2021-Q2_v1.controle.xlsx",
        "Monitor_Wijdemeren_2020-Q4_correctie.controle.xlsx",
    ]


def digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_demo_rebuilds_its_own_folder_but_refuses_others(demo, tmp_path):
    folder, _ = demo
    before = {**digests(folder / "inbox"), "master.xlsx": digests(folder)["master.xlsx"]}
    again = subprocess.run([sys.executable, "-m", "xlmonitor.cli", "demo", str(folder)],
                           capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    # The same inbox, so the same register hashes and the same master.
    assert {**digests(folder / "inbox"), "master.xlsx": digests(folder)["master.xlsx"]} \
        == before
    (tmp_path / "iets.txt").write_text("van iemand anders")
    refused = subprocess.run([sys.executable, "-m", "xlmonitor.cli", "demo", str(tmp_path)],
                             capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    assert "geen demo-map" in refused.stderr
    assert (tmp_path / "iets.txt").read_text() == "van iemand anders"


def test_two_runs_write_the_same_bytes_and_file_times(programme, tmp_path):
    """No clock in the demo's files: not in the document properties, not in the zip members.
    Otherwise the master's sha256 column and the guide's pictures change on every run."""
    first = write_demo_inbox(programme, tmp_path / "eerste")
    # Past a zip timestamp's two-second step: a stamped "now" would differ between the runs.
    time.sleep(2.1)
    second = write_demo_inbox(programme, tmp_path / "tweede")
    assert [p.name for p in first] == [p.name for p in second]
    assert len(first) > 40
    differing = [a.name for a, b in zip(first, second, strict=True)
                 if a.read_bytes() != b.read_bytes()]
    assert differing == []
    # The consolidation orders files by their modification times: those are the demo's too.
    assert [a.stat().st_mtime for a in first] == [b.stat().st_mtime for b in second]


def test_cached_values_equal_the_generator(demo, truth, programme):
    folder, _ = demo
    master = folder / "master.xlsx"
    assert mismatches(master, table_refs(master),
                      independent_figures(truth, "2022-Q1")) == []


@pytest.mark.slow
@pytest.mark.parametrize("peilperiode", ["2021-Q2", "2022-Q2"])
def test_recalculated_dashboard_equals_the_generator(soffice, demo, truth, tmp_path,
                                                     peilperiode):
    folder, _ = demo
    master = folder / "master.xlsx"
    chosen = set_peilperiode_in_file(master, tmp_path / "gekozen.xlsx", peilperiode)
    recalculated = libreoffice.recalculate(chosen, tmp_path / "herberekend.xlsx")
    refs = table_refs(master)
    assert mismatches(recalculated, refs, independent_figures(truth, peilperiode)) == []

    projects = {r["Projectcode"]: r for r in read_table(recalculated, *refs["tblProjecten"])}
    kpi = {r["Indicator"]: r for r in read_table(recalculated, *refs["tblKPI"])}
    if peilperiode == "2021-Q2":
        # S1, September 2021: ZorgStart 279 registrations, 142 started, 43 in work by Q2.
        zorgstart = projects["ZORGSTART"]
        assert (zorgstart["Aanmeldingen"], zorgstart["Gestarte trajecten"],
                zorgstart["Bemiddeld naar werk"]) == (279, 142, 43)
        assert zorgstart["Stoplicht"] == "groen"  # "volgens doel"
        assert 370 <= kpi["Gestarte trajecten"]["Gerealiseerd"] <= 410  # 385 by June 2021
        assert kpi["Gestarte trajecten"]["Doel"] == 1180
    else:
        # S3, 2022: "ruim 300 inwoners" in work, on schedule; targets 1200 / 800 / 500.
        assert kpi["Bemiddeld naar werk"]["Gerealiseerd"] > 300
        assert kpi["Bemiddeld naar werk"]["Stoplicht"] == "groen"
        assert [kpi[k]["Doel"] for k in ("Gestarte trajecten", "Afgeronde scholing",
                                         "Bemiddeld naar werk")] == [1200, 800, 500]
        assert kpi["Afgeronde scholing"]["Stoplicht"] != "groen"  # training lags (S3)


def test_readers_that_do_not_calculate_see_the_numbers(demo, truth):
    folder, _ = demo
    kpi = pd.read_excel(folder / "master.xlsx", sheet_name="Dashboard", header=None,
                        engine="openpyxl")
    assert (kpi == "Gestarte trajecten").any().any()
    values = kpi.to_numpy().ravel().tolist()
    expected = independent_figures(truth, "2022-Q1")["kpi"]["Bemiddeld naar werk"]
    assert expected["Gerealiseerd"] in values
