"""``xlmonitor export``: the Dashboard as the council sees it (one landscape page, a legible
picture, the right figures at the chosen peilperiode), tidy data equal to the master's tables,
the master untouched, and the guide's pictures in step with the build.

Figures are checked against a plain pandas sum over ``tblData`` read with openpyxl's own
table API, sharing no code with :mod:`xlmonitor.export.outputs` or
:mod:`xlmonitor.master.dashboard`.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.cell import range_boundaries
from PIL import Image
from synthetic import make_consolidation, programme_periods, random_data

from xlmonitor.cli import main
from xlmonitor.consolidation.merge import DATA_COLUMNS, FINDING_COLUMNS, REGISTER_COLUMNS
from xlmonitor.demo import run_demo
from xlmonitor.export.outputs import export_dashboard, export_tables
from xlmonitor.master.publish import write_master
from xlmonitor.programme.definition import load_programme

REPO = Path(__file__).resolve().parent.parent
GUIDE_IMAGES = REPO / "docs" / "img"
GUIDE = REPO / "docs" / "handleiding.md"
REGENERATE = "python scripts/make-guide-images.py"
A4_INCHES = (297 / 25.4, 210 / 25.4)   # landscape
INDICATORS = ["Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing",
              "Bemiddeld naar werk"]


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    return run_demo(folder / "demo", echo=lambda *_: None)["master"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_rows(path: Path, name: str) -> tuple[list[str], list[tuple]]:
    """Header and body rows of table ``name``, through openpyxl's table API."""
    workbook = openpyxl.load_workbook(path, data_only=True)
    for sheet in workbook.worksheets:
        if name in sheet.tables:
            min_col, min_row, max_col, max_row = range_boundaries(sheet.tables[name].ref)
            rows = list(sheet.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                                        max_col=max_col, values_only=True))
            body = [r for r in rows[1:] if any(v not in (None, "") for v in r)]
            return [str(v) for v in rows[0]], body
    raise AssertionError(f"table {name} not in {path}")


def tbldata_frame(path: Path) -> pd.DataFrame:
    header, rows = table_rows(path, "tblData")
    return pd.DataFrame(rows, columns=header)


def quarter_end(quarter: str) -> date:
    return pd.Period(quarter.replace("-", ""), freq="Q").end_time.date()


def pdf_pages(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def pixels(png: Path) -> np.ndarray:
    return np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)


# -- Dashboard as PDF and PNG ----------------------------------------------------------------

@pytest.mark.slow
def test_pdf_is_one_landscape_page_and_png_a_legible_a4(soffice, master, tmp_path):
    before = digest(master)
    pdf, png = tmp_path / "dashboard.pdf", tmp_path / "dashboard.png"
    assert main(["export", str(master), "--pdf", str(pdf), "--png", str(png)]) == 0

    assert pdf_pages(pdf) == 1
    image = pixels(png)
    height, width = image.shape[:2]
    assert abs(width - A4_INCHES[0] * 150) <= 1 and abs(height - A4_INCHES[1] * 150) <= 1, \
        f"{width}×{height} px is not landscape A4 at 150 dpi (1754×1241)"
    ink = (image < 200).any(axis=2).mean()
    assert 0.03 < ink < 0.6, f"share of non-white pixels {ink:.3f}: blank or black page"
    assert image.std() > 20
    # The three programme indicators, the traffic lights and the trend charts are there.
    text = pdf_text(pdf)
    for words in ("Programma-indicatoren", "Gestarte trajecten", "Bemiddeld naar werk",
                  "Stoplicht", "groen", "rood", "Verloop per kwartaal"):
        assert words in text
    assert digest(master) == before, "export changed the master"


def kpi_realised(text: str) -> dict[str, int]:
    """Realised figure per indicator from tblKPI's rows in the PDF text."""
    found = {}
    for label in INDICATORS:
        match = re.search(rf"^\s*{label}\s+(\d+)\s", text, re.M)
        assert match, f"KPI row {label} not in the PDF text"
        found[label] = int(match.group(1))
    return found


@pytest.mark.slow
def test_peilperiode_changes_the_figures_as_pandas_computes_them(soffice, master, tmp_path):
    before = digest(master)
    data = tbldata_frame(master)
    ends = pd.to_datetime(data["Kwartaaleinde"]).dt.date
    pngs = {}
    for quarter in ("2021-Q3", "2022-Q1"):
        pdf, png = tmp_path / f"{quarter}.pdf", tmp_path / f"{quarter}.png"
        export_dashboard(master, pdf=pdf, png=png, peilperiode=quarter, dpi=100)
        text = pdf_text(pdf)
        assert re.search(rf"Peilperiode\s+{quarter}", text)
        upto = data[ends <= quarter_end(quarter)]
        wanted = {label: int(upto[label].sum()) for label in INDICATORS}
        assert kpi_realised(text) == wanted, quarter
        pngs[quarter] = pixels(png)
    first, second = pngs.values()
    assert first.shape == second.shape
    assert np.abs(first - second).mean() > 0.2, "the two peilperiodes look the same"
    assert digest(master) == before


@pytest.mark.parametrize("quarter, message", [
    ("2021-Q9", "Ongeldige peilperiode '2021-Q9'"),
    ("2019-Q1", "Peilperiode 2019-Q1 staat niet in de master"),
])
def test_bad_peilperiode_is_one_dutch_line_with_exit_2(master, tmp_path, capsys, quarter,
                                                      message):
    png = tmp_path / "x.png"
    assert main(["export", str(master), "--png", str(png), "--peilperiode", quarter]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not png.exists()


def test_export_without_output_or_master_is_a_usage_error(master, tmp_path, capsys):
    assert main(["export", str(master)]) == 2
    assert "kies minstens een van --pdf, --png, --csv" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "geen.xlsx"), "--csv", str(tmp_path)]) == 2
    assert "bestaat niet" in capsys.readouterr().err
    assert main(["export", str(master), "--pdf", str(master)]) == 2
    assert "de master zelf" in capsys.readouterr().err


# -- tidy data -------------------------------------------------------------------------------

def csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV without UTF-8 BOM"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=","))


def as_csv_text(value: object) -> str:
    """How the documented CSV format writes an openpyxl value (docs/power-bi.md)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else \
            value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@pytest.mark.parametrize("stem, table, columns", [
    ("data", "tblData", DATA_COLUMNS),
    ("inzendingen", "tblInzendingen", REGISTER_COLUMNS),
    ("bevindingen", "tblBevindingen", FINDING_COLUMNS),
])
def test_csv_equals_the_masters_table(master, tmp_path, stem, table, columns):
    before = digest(master)
    written = export_tables(master, tmp_path)
    assert [p.name for p in written] == ["data.csv", "inzendingen.csv", "bevindingen.csv"]
    header, rows = table_rows(master, table)
    exported = csv_rows(tmp_path / f"{stem}.csv")
    assert exported[0] == header == columns
    assert exported[1:] == [[as_csv_text(v) for v in row] for row in rows]
    assert len(exported) > 1
    assert digest(master) == before


def test_csv_reads_back_as_tbldata_with_pandas(master, tmp_path):
    export_tables(master, tmp_path)
    frame = pd.read_csv(tmp_path / "data.csv", encoding="utf-8-sig",
                        parse_dates=["Kwartaaleinde"], keep_default_na=False)
    expected = tbldata_frame(master)
    assert list(frame.columns) == DATA_COLUMNS
    assert len(frame) == len(expected)
    for label in INDICATORS:
        assert frame[label].dtype.kind == "i"
        assert frame[label].tolist() == expected[label].astype(int).tolist()
    assert (frame["Kwartaaleinde"].dt.date == pd.to_datetime(expected["Kwartaaleinde"]).dt.date
            ).all()


def test_submitted_text_cannot_become_a_formula_in_the_csv(tmp_path):
    programme = load_programme()
    periods = programme_periods(programme, "2021-Q1")
    remarks = {("Huizen", "2020-Q4", "GGZ"): '=HYPERLINK("http://voorbeeld.invalid","klik")',
               ("Laren", "2021-Q1", "WIJKLEER"): "@SUM(A1)",
               ("Eemnes", "2020-Q3", "GVWD"): "-2 gestopt, zie toelichting; \"let op\""}
    data = random_data(programme, periods, seed=3, remarks=remarks)
    path = write_master(make_consolidation(programme, data, periods), tmp_path / "m.xlsx")
    export_tables(path, tmp_path / "csv")
    exported = {row[DATA_COLUMNS.index("Toelichting")] for row in
                csv_rows(tmp_path / "csv" / "data.csv")[1:]}
    for text in remarks.values():
        assert "'" + text in exported and text not in exported


def test_parquet_has_typed_columns(master, tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    export_tables(master, tmp_path, fmt="parquet")
    table = pq.read_table(tmp_path / "data.parquet")
    assert table.column_names == DATA_COLUMNS
    assert str(table.schema.field("Kwartaaleinde").type) == "date32[day]"
    assert all(str(table.schema.field(c).type) == "int64" for c in INDICATORS)
    frame = table.to_pandas()
    expected = tbldata_frame(master)
    assert frame["Bemiddeld naar werk"].sum() == expected["Bemiddeld naar werk"].sum()
    register = pq.read_table(tmp_path / "inzendingen.parquet")
    assert str(register.schema.field("Gewijzigd").type).startswith("timestamp")


def test_parquet_without_pyarrow_says_how_to_install_it(master, tmp_path, capsys,
                                                        monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow → ImportError
    assert main(["export", str(master), "--parquet", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert 'pip install "xlmonitor[export]"' in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


# -- the guide's pictures --------------------------------------------------------------------

def test_guide_refers_to_every_picture_and_each_is_small():
    referenced = set(re.findall(r"\]\((img/[^)]+\.png)\)", GUIDE.read_text(encoding="utf-8")))
    present = {f"img/{p.name}" for p in GUIDE_IMAGES.glob("*.png")}
    assert referenced == present, f"run {REGENERATE} and update docs/handleiding.md"
    for png in GUIDE_IMAGES.glob("*.png"):
        assert png.stat().st_size < 300_000, png.name


@pytest.mark.slow
def test_guide_pictures_match_the_current_build(soffice, tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "make-guide-images.py"),
                             "--out", str(tmp_path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    fresh = sorted(p.name for p in tmp_path.glob("*.png"))
    assert fresh == sorted(p.name for p in GUIDE_IMAGES.glob("*.png")), \
        f"docs/img differs from the pictures the build makes; run: {REGENERATE}"
    for name in fresh:
        old, new = pixels(GUIDE_IMAGES / name), pixels(tmp_path / name)
        assert old.shape == new.shape, \
            f"docs/img/{name} is {old.shape[1]}×{old.shape[0]} px, the build makes " \
            f"{new.shape[1]}×{new.shape[0]}: the workbook changed; run: {REGENERATE}"
        # The demo writes the same bytes every run (so the same hashes in Inzendingen), and
        # here LibreOffice and poppler draw the same pixels from them: runs are pixel-equal.
        # A few pixels of slack (0.02 %) for another font hinting or anti-aliasing on a
        # machine that installed another patch level; a changed layout moves far more.
        # Pixels, not PNG bytes: another zlib or Pillow may pack the same picture otherwise.
        changed = int((old != new).any(axis=2).sum())
        assert changed <= old.shape[0] * old.shape[1] // 5000, \
            f"docs/img/{name} differs from the build in {changed} pixels; run: {REGENERATE}"
