"""Headless LibreOffice layer: recalculation, PDF/PNG export, error messages.

These run the real ``soffice`` (see the ``soffice`` fixture in conftest.py).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from xlmonitor import libreoffice
from xlmonitor.errors import LibreOfficeError

ROWS = [("Huizen", 3), ("Laren", 5), ("Huizen", 4), ("Eemnes", 10), ("Huizen", 11)]
HUIZEN = sum(n for g, n in ROWS if g == "Huizen")  # 18
WRONG_CACHED = -1
FORMULA = '=SUMIFS(tblData[Aantal],tblData[Gemeente],"Huizen")'


def make_workbook(path: Path) -> Path:
    """Sheet Data with table tblData; sheet Dashboard with a SUMIFS whose cached value is wrong."""
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet("Data")
    data.add_table(
        0,
        0,
        len(ROWS),
        1,
        {
            "name": "tblData",
            "columns": [{"header": "Gemeente"}, {"header": "Aantal"}],
            "data": [list(r) for r in ROWS],
        },
    )
    dash = wb.add_worksheet("Dashboard")
    dash.set_column("A:A", 24)
    dash.write("A1", "Totaal Huizen")
    dash.write_formula("B1", FORMULA, None, WRONG_CACHED)
    wb.close()
    return path


def to_xlsm(xlsx: Path, xlsm: Path) -> Path:
    """A macro-free .xlsm: same package, workbook content type switched to macro-enabled."""
    with zipfile.ZipFile(xlsx) as zin, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                assert b"macroEnabled" in data
            zout.writestr(item, data)
    return xlsm


def cached_value(path: Path, sheet: str = "Dashboard", cell: str = "B1") -> object:
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        return wb[sheet][cell].value
    finally:
        wb.close()


def pdf_text(pdf: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is missing"
    return subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def png_gray_pixels(path: Path) -> tuple[int, int, list[int]]:
    """(width, height, grey values 0..255); Pillow when installed, else a tiny PNG decoder."""
    try:
        from PIL import Image
    except ImportError:
        return _decode_png_gray(path.read_bytes())
    with Image.open(path) as img:
        gray = img.convert("L")
        return gray.width, gray.height, list(gray.tobytes())


def _decode_png_gray(blob: bytes) -> tuple[int, int, list[int]]:
    assert blob[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        kind, body = blob[pos + 4 : pos + 8], blob[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    assert depth == 8 and interlace == 0, "decoder handles 8-bit non-interlaced only"
    raw, bpp, stride = zlib.decompress(idat), channels, width * channels
    prev, pixels, i = bytearray(stride), [], 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        pixels += [
            sum(line[x : x + min(channels, 3)]) // min(channels, 3)
            for x in range(0, stride, channels)
        ]
        prev = line
    return width, height, pixels


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    path = make_workbook(tmp_path / "gemeenten.xlsx")
    # The premise of the tests: the file itself carries the wrong value.
    assert cached_value(path) == WRONG_CACHED
    return path


# --------------------------------------------------------------------------- recalculation


@pytest.mark.slow
def test_recalculate_replaces_wrong_cached_value(soffice: str, workbook: Path, tmp_path: Path):
    out = libreoffice.recalculate(workbook, tmp_path / "out" / "herberekend.xlsx")

    assert out == tmp_path / "out" / "herberekend.xlsx"
    assert cached_value(out) == HUIZEN
    wb = openpyxl.load_workbook(out)
    try:  # still a live formula over the table, and the table survived
        assert wb["Dashboard"]["B1"].value == FORMULA
        assert "tblData" in wb["Data"].tables
    finally:
        wb.close()
    assert cached_value(workbook) == WRONG_CACHED, "the source file must not change"


@pytest.mark.slow
def test_without_recalc_profile_cached_value_survives(soffice: str, workbook: Path, tmp_path: Path):
    # Control: LibreOffice's default keeps cached values; the profile is what makes it recalc.
    out = libreoffice.convert(workbook, libreoffice.XLSX_FILTER, tmp_path / "out", recalc=False)
    assert out.name == "gemeenten.xlsx"
    assert cached_value(out) == WRONG_CACHED


@pytest.mark.slow
@pytest.mark.parametrize("dest_name", ["uit.xlsx", "uit.xlsm"])
def test_recalculate_accepts_xlsm(soffice: str, workbook: Path, tmp_path: Path, dest_name: str):
    xlsm = to_xlsm(workbook, tmp_path / "gemeenten.xlsm")
    out = libreoffice.recalculate(xlsm, tmp_path / dest_name)
    assert cached_value(out) == HUIZEN


@pytest.mark.slow
def test_concurrent_conversions_do_not_interfere(soffice: str, workbook: Path, tmp_path: Path):
    with ThreadPoolExecutor(max_workers=3) as pool:
        outs = list(
            pool.map(
                lambda i: libreoffice.recalculate(workbook, tmp_path / f"kopie{i}.xlsx"), range(3)
            )
        )
    assert [cached_value(out) for out in outs] == [HUIZEN] * 3


@pytest.mark.slow
def test_unreadable_or_empty_file_gives_dutch_error(soffice: str, tmp_path: Path):
    bad = tmp_path / "kapot.xlsx"
    bad.write_bytes(b"dit is geen werkmap")
    with pytest.raises(LibreOfficeError, match=r"kapot\.xlsx.*mislukt"):
        libreoffice.recalculate(bad, tmp_path / "uit.xlsx")
    empty = tmp_path / "leeg.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(LibreOfficeError, match=r"leeg\.xlsx.*is leeg"):
        libreoffice.recalculate(empty, tmp_path / "uit.xlsx")
    assert not (tmp_path / "uit.xlsx").exists()


@pytest.mark.slow
def test_timeout_is_reported(soffice: str, workbook: Path, tmp_path: Path):
    with pytest.raises(LibreOfficeError, match="afgebroken"):
        libreoffice.convert(workbook, "pdf", tmp_path / "out", timeout=0.05)
    assert not (tmp_path / "out" / "gemeenten.pdf").exists()


# --------------------------------------------------------------------------- PDF and PNG


@pytest.mark.slow
def test_pdf_and_png_show_recalculated_dashboard(soffice: str, workbook: Path, tmp_path: Path):
    whole = libreoffice.to_pdf(workbook, tmp_path / "alles.pdf")
    text = pdf_text(whole)
    assert "Eemnes" in text and "Totaal Huizen" in text
    assert str(HUIZEN) in text.split("Totaal Huizen", 1)[1]

    dash = libreoffice.to_pdf(workbook, tmp_path / "dashboard.pdf", sheet="Dashboard")
    dash_text = pdf_text(dash)
    assert "Totaal Huizen" in dash_text
    assert dash_text.split() == ["Totaal", "Huizen", str(HUIZEN)], dash_text
    assert "Eemnes" not in dash_text, "only the Dashboard sheet must be exported"

    png = libreoffice.pdf_to_png(dash, tmp_path / "dashboard.png", dpi=110)
    assert png == tmp_path / "dashboard.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 1_000 < png.stat().st_size < 5_000_000
    width, height, pixels = png_gray_pixels(png)
    # One page at 110 dpi (A4 or Letter): roughly 900 x 1200 pixels.
    assert 700 < width < 1100 and 1000 < height < 1400, (width, height)
    dark = sum(1 for p in pixels if p < 128)
    assert dark > 100, "the image is blank"
    assert dark < len(pixels) * 0.2, "the image is mostly dark"
    mean = sum(pixels) / len(pixels)
    variance = sum((p - mean) ** 2 for p in pixels) / len(pixels)
    assert variance > 10, variance


@pytest.mark.slow
def test_pdf_to_png_all_pages(soffice: str, workbook: Path, tmp_path: Path):
    pdf = libreoffice.to_pdf(workbook, tmp_path / "alles.pdf")
    first = libreoffice.pdf_to_png(pdf, tmp_path / "pagina.png", first_page_only=False)
    assert first.is_file()
    assert (tmp_path / "pagina-2.png").is_file()  # the Dashboard sheet is page 2


@pytest.mark.slow
def test_pdf_of_unknown_sheet_names_the_sheets(soffice: str, workbook: Path, tmp_path: Path):
    with pytest.raises(LibreOfficeError, match=r"Werkblad 'Nergens' bestaat niet.*Dashboard"):
        libreoffice.to_pdf(workbook, tmp_path / "x.pdf", sheet="Nergens")
    assert not (tmp_path / "x.pdf").exists()


# --------------------------------------------------------------------------- missing LibreOffice


@pytest.fixture
def no_libreoffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty_bin = tmp_path / "leeg-bin"
    empty_bin.mkdir()
    monkeypatch.delenv(libreoffice.ENV_SOFFICE, raising=False)
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setattr(libreoffice, "_candidate_paths", lambda: [])


def test_missing_soffice_raises_dutch_error(no_libreoffice: None, tmp_path: Path):
    with pytest.raises(LibreOfficeError) as info:
        libreoffice.find_soffice()
    message = str(info.value)
    assert "LibreOffice is niet gevonden" in message
    assert "XLMONITOR_SOFFICE" in message

    src = make_workbook(tmp_path / "w.xlsx")
    with pytest.raises(LibreOfficeError, match="niet gevonden"):
        libreoffice.recalculate(src, tmp_path / "uit.xlsx")
    assert not (tmp_path / "uit.xlsx").exists()


def test_soffice_from_environment_variable(
    no_libreoffice: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv(libreoffice.ENV_SOFFICE, str(tmp_path / "bestaat-niet" / "soffice"))
    with pytest.raises(
        LibreOfficeError, match="bestaat-niet.*XLMONITOR_SOFFICE|XLMONITOR_SOFFICE.*bestaat-niet"
    ):
        libreoffice.find_soffice()

    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv(libreoffice.ENV_SOFFICE, str(fake))
    assert libreoffice.find_soffice() == str(fake)
    # A "LibreOffice" that produces nothing is a failure, not a silent success.
    with pytest.raises(LibreOfficeError, match=r"w\.xlsx.*geen uitvoer"):
        libreoffice.convert(make_workbook(tmp_path / "w.xlsx"), "pdf", tmp_path / "out")
