#!/usr/bin/env python
"""Render the pictures of the Dutch user guide (docs/handleiding.md) into docs/img/.

Every picture is a real workbook rendered by xlmonitor's own LibreOffice layer, never drawn by
hand: the script builds the demo (inbox, master, feedback copies) in a temporary folder,
prints sheets to PDF with :func:`xlmonitor.libreoffice.to_pdf` (the Dashboard through
:func:`xlmonitor.export.outputs.export_dashboard`), renders them with poppler and crops them with
Pillow. Rerun it whenever a workbook's layout changes::

    python scripts/make-guide-images.py            # writes docs/img/*.png
    python scripts/make-guide-images.py --out DIR  # somewhere else (tests/test_export.py)

Needs LibreOffice, poppler-utils and Pillow (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "docs" / "img"
DPI = 110          # legible in a browser at 100 %, small files
MAX_BYTES = 300_000
FEEDBACK_SOURCE = "Monitor_Eemnes_2021-Q2_v1"   # demo file with two errors in Invoer
TEMPLATE_SOURCE = "Monitor_Blaricum_2021-Q3"    # demo file in the standard template


def _crop(png: Path, *, dpi: int = DPI, max_height: int | None = None, pad: int = 14) -> None:
    """Crop ``png`` to its content (plus ``pad``), cut at a text-free row below
    ``max_height``, and store it as a 256-colour palette PNG (spreadsheets have few colours;
    a quarter of the RGB size)."""
    from PIL import Image, ImageChops

    image = Image.open(png).convert("RGB")
    white = Image.new("RGB", image.size, (255, 255, 255))
    # Pixels clearly darker than paper; the faint table rules (#D9D9D9) count as content.
    mask = ImageChops.difference(image, white).convert("L").point(lambda v: 255 if v > 12 else 0)
    # Leave out the page header and footer ("Pagina 1 van 1", the region's name).
    mask.paste(0, (0, 0, image.width, int(dpi * 0.35)))
    footer = _footer_top(mask, dpi)
    if footer is not None:
        mask.paste(0, (0, footer, image.width, image.height))
    box = mask.getbbox()
    if box is None:
        raise SystemExit(f"{png.name}: the rendered page is blank")
    left, top, right, bottom = box
    below = pad
    if max_height is not None and bottom - top > max_height:
        bottom = _row_gap(image, top + max_height, top, left, right)
        below = 0  # padding would show the top of the next row
    box = (max(left - pad, 0), max(top - pad, 0), min(right + pad, image.width),
           min(bottom + below, image.height))
    cropped = image.crop(box)
    cropped.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
        .save(png, optimize=True)


def _footer_top(mask, dpi: int) -> int | None:
    """First pixel row of the page footer: the last band of ink when it lies in the bottom
    inch of the page, clearly apart from the sheet's content above it."""
    import numpy as np

    rows = np.flatnonzero(np.asarray(mask).any(axis=1))
    if not len(rows):
        return None
    gaps = np.flatnonzero(np.diff(rows) > 1)
    if not len(gaps):
        return None
    start = int(rows[gaps[-1] + 1])
    above = int(rows[gaps[-1]])
    if start < mask.height - dpi or start - above < dpi // 8:
        return None
    return start


def _row_gap(image, limit: int, top: int, left: int, right: int) -> int:
    """Where to cut at or above ``limit`` so the cut never goes through a line of text: the
    lowest pixel row that is blank (nothing darker than light grey) or a table's horizontal
    rule (kept, so the picture ends on a row border)."""
    import numpy as np

    gray = np.asarray(image.convert("L"))[:, left:right]
    for y in range(limit, top, -1):
        row = gray[y]
        if row.min() >= 190:
            return y
        if (row < 225).mean() > 0.6:  # a border line, darker than any cell fill
            return y + 1
    return limit


def _sheet(src: Path, sheet: str, png: Path, scratch: Path, *, dpi: int = DPI,
           max_inches: float | None = None) -> Path:
    """Print ``sheet`` of ``src``, render it at ``dpi`` and crop it (at most ``max_inches``
    of the page high)."""
    from xlmonitor.libreoffice import pdf_to_png, to_pdf

    pdf = scratch / f"{png.stem}.pdf"
    to_pdf(src, pdf, sheet=sheet)
    pdf_to_png(pdf, png, dpi=dpi)
    _crop(png, dpi=dpi, max_height=None if max_inches is None else int(dpi * max_inches))
    return png


def _programme_sheet(sheet: str, scratch: Path) -> Path:
    """A copy of the shipped programme workbook printing ``sheet`` on one landscape page
    (programma.xlsx has no print setup; it has no charts, so openpyxl may save it)."""
    import openpyxl

    from xlmonitor.programme.definition import default_programme_path

    workbook = openpyxl.load_workbook(default_programme_path())
    worksheet = workbook[sheet]
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.paperSize = worksheet.PAPERSIZE_A4
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 1
    copy = scratch / "programma.xlsx"
    workbook.save(copy)
    return copy


def _report_page(master: Path, png: Path, scratch: Path) -> Path:
    """The first page of the Monitor (``xlmonitor rapport``) on the demo master, whole."""
    from xlmonitor.libreoffice import pdf_to_png
    from xlmonitor.report.monitor import write_report

    pdf = scratch / "Monitor.pdf"
    write_report(master, scratch / "Monitor.docx", pdf=pdf)
    pdf_to_png(pdf, png, dpi=90)
    from PIL import Image

    image = Image.open(png).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
        .save(png, optimize=True)
    return png


def make_images(out: Path) -> list[Path]:
    """Build the demo in a temporary folder and render every picture into ``out``."""
    from xlmonitor.demo import run_demo
    from xlmonitor.export.outputs import export_dashboard

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlmonitor-guide-") as tmp:
        scratch = Path(tmp)
        demo = run_demo(scratch / "demo", echo=lambda *_: None)
        master, inbox, feedback = demo["master"], demo["inbox"], demo["feedback"]
        images = []

        dashboard = out / "dashboard.png"
        export_dashboard(master, png=dashboard, dpi=DPI)
        _crop(dashboard)
        images.append(dashboard)

        # The register is wide (A4 landscape, fit to width): a higher resolution keeps its
        # small print legible.
        images.append(_sheet(master, "Inzendingen", out / "inzendingen.png", scratch,
                             dpi=140, max_inches=4.0))
        images.append(_sheet(inbox / f"{TEMPLATE_SOURCE}.xlsx", "Invoer",
                             out / "sjabloon-invoer.png", scratch))
        copy = feedback / f"{FEEDBACK_SOURCE}.controle.xlsx"
        images.append(_sheet(copy, "Controle", out / "controle-blad.png", scratch))
        images.append(_sheet(copy, "Invoer", out / "controle-invoer.png", scratch,
                             max_inches=2.6))
        images.append(_sheet(_programme_sheet("Doelstellingen", scratch), "Doelstellingen",
                             out / "programma-doelstellingen.png", scratch))
        images.append(_report_page(master, out / "rapport-pagina.png", scratch))
    for image in images:
        if image.stat().st_size > MAX_BYTES:
            raise SystemExit(f"{image.name} is {image.stat().st_size} bytes; keep it under "
                             f"{MAX_BYTES} (lower DPI or crop)")
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the PNGs (default {DEFAULT_OUT.relative_to(REPO)})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for image in make_images(args.out):
        print(f"{image}  ({image.stat().st_size // 1024} KB)")
    print(f"{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
