"""Ways to write the 84,000-row Data sheet of the national master, measured.

    python benchmarks/writers.py [--map /tmp/xlmonitor-bench] [--herhalingen 3]

Each alternative writes tblData's 15 columns (same typed values: text, dates, counts) in a
fresh process; seconds are medians, memory is the process's ``ru_maxrss``:

* ``xlsxwriter-cells`` — XlsxWriter, a typed ``write_*`` per cell plus ``add_table`` (what
  publish did before: see ``_write_data_cells`` below, a copy);
* ``xlsxwriter-constant-memory`` — XlsxWriter's row-by-row mode: no Excel table possible;
* ``rustpy-xlsxwriter`` — the Rust writer (``pip install rustpy-xlsxwriter``): no Excel table,
  no cached formula values on other sheets either;
* ``pandas-openpyxl`` — ``DataFrame.to_excel`` with openpyxl (the baseline's writer);
* ``xlmonitor-bulk`` — what publish does now (:mod:`xlmonitor.master.datasheet`): XlsxWriter writes
  the sheet with its table, formats and header; the rows' XML is rendered column by column
  with pyarrow's string kernels and put into the package;
* ``master`` — the whole master (``write_master``) as shipped, and ``master-without-rows``
  the same without Data's rows: what not rewriting an unchanged Data sheet could save at most.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
WRITERS = ["xlsxwriter-cells", "xlsxwriter-constant-memory", "rustpy-xlsxwriter",
           "pandas-openpyxl", "xlmonitor-bulk", "master", "master-without-rows"]


def _write_data_cells(workbook, styles, data: pd.DataFrame) -> None:
    """The Data sheet before the bulk rows: XlsxWriter, cell by cell."""
    from xlmonitor.consolidation.merge import DATA_COLUMNS
    from xlmonitor.master.datasheet import COUNT_COLUMNS as _COUNT_COLUMNS
    from xlmonitor.master.datasheet import RISKY_START as _RISKY_START
    from xlmonitor.master.datasheet import format_columns
    from xlmonitor.master.publish import _is_missing
    from xlmonitor.master.styles import EXCEL_EPOCH, add_table

    _EPOCH = EXCEL_EPOCH

    sheet = workbook.add_worksheet("Data")
    numeric = [c for c in DATA_COLUMNS if c in _COUNT_COLUMNS]
    add_table(sheet, 0, 0, DATA_COLUMNS, "tblData", rows=len(data), style="Table Style Light 9",
              styles=styles, numeric=tuple(numeric))
    format_columns(sheet, styles)
    for c, column in enumerate(DATA_COLUMNS):
        values = data[column]
        if column == "Kwartaaleinde":
            serials = (pd.to_datetime(values) - pd.Timestamp(_EPOCH)).dt.days
            for r, serial in enumerate(serials.tolist(), start=1):
                sheet.write_number(r, c, serial, styles.date)
        elif column in _COUNT_COLUMNS:
            for r, value in enumerate(values.tolist(), start=1):
                sheet.write_number(r, c, value)
        else:
            for r, value in enumerate(values.tolist(), start=1):
                text = value if isinstance(value, str) else ("" if _is_missing(value)
                                                            else str(value))
                if text:
                    sheet.write_string(r, c, text,
                                       styles.quoted if text.startswith(_RISKY_START) else None)
    sheet.freeze_panes(1, 0)


def write(kind: str, consolidation, target: Path) -> None:
    import xlsxwriter

    from xlmonitor.consolidation.merge import DATA_COLUMNS
    from xlmonitor.master import datasheet, publish
    from xlmonitor.master.styles import EXCEL_EPOCH, Styles

    data = consolidation.data
    if kind in ("master", "master-without-rows"):
        if kind == "master-without-rows":
            datasheet.DataRows.xml = lambda self: b""
        publish.write_master(consolidation, target)
    elif kind == "xlsxwriter-cells":
        workbook = xlsxwriter.Workbook(str(target), {"strings_to_formulas": False,
                                                     "strings_to_urls": False})
        _write_data_cells(workbook, Styles(workbook), data)
        workbook.close()
    elif kind == "xlsxwriter-constant-memory":
        workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True,
                                                     "strings_to_formulas": False,
                                                     "strings_to_urls": False})
        styles = Styles(workbook)
        sheet = workbook.add_worksheet("Data")
        sheet.write_row(0, 0, DATA_COLUMNS, styles.header)
        frame = data.assign(Kwartaaleinde=(pd.to_datetime(data["Kwartaaleinde"])
                                           - pd.Timestamp(EXCEL_EPOCH)).dt.days)
        for r, row in enumerate(frame.itertuples(index=False), start=1):
            sheet.write_row(r, 0, row)
        workbook.close()
    elif kind == "rustpy-xlsxwriter":
        from rustpy_xlsxwriter import write_worksheet

        write_worksheet(data.astype({"Kwartaaleinde": "datetime64[ns]"}), str(target),
                        sheet_name="Data", bold_headers=True, autofilter=True, freeze_row=1)
    elif kind == "pandas-openpyxl":
        data.to_excel(target, sheet_name="Data", index=False, engine="openpyxl")
    elif kind == "xlmonitor-bulk":
        package = io.BytesIO()
        workbook = xlsxwriter.Workbook(package, {"in_memory": True})
        rows = datasheet.add_data_sheet(workbook, Styles(workbook), data)
        workbook.close()
        datasheet.write_package(package, target, rows)


def child(kind: str, source: Path, target: Path) -> dict:
    with open(source, "rb") as handle:
        consolidation = pickle.load(handle)  # our own file, made by prepare()
    started = time.perf_counter()
    write(kind, consolidation, target)
    return {"seconds": time.perf_counter() - started, "size_mb": target.stat().st_size / 2**20,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def prepare(root: Path) -> Path:
    """The national scenario's consolidation, pickled once."""
    source = root / "n350-consolidation.pkl"
    if not source.exists():
        sys.path.insert(0, str(HERE))
        from consolidate import prepare as prepare_inbox

        from xlmonitor.consolidation.merge import consolidate
        from xlmonitor.programme.definition import load_programme
        from xlmonitor.run.settings import default_jobs

        folder = prepare_inbox(root, "n350")
        programme = load_programme(folder / "programma.xlsx")
        result = consolidate(folder / "inbox", programme, jobs=default_jobs())
        with open(source, "wb") as handle:
            pickle.dump(result, handle)
    return source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", type=Path, default=Path("/tmp/xlmonitor-bench"))
    parser.add_argument("--herhalingen", type=int, default=3)
    parser.add_argument("--writer", nargs="*", default=WRITERS, choices=WRITERS)
    parser.add_argument("--kind", choices=WRITERS, help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.kind:
        print(json.dumps(child(args.kind, args.source, args.target)))
        return 0
    source = prepare(args.map)
    lines = ["| writer | seconds (median) | all | file MB | peak MB | Excel table tblData |",
             "|---|---:|---|---:|---:|---|"]
    for kind in args.writer:
        runs = []
        for _ in range(args.herhalingen):
            target = args.map / f"writer-{kind}.xlsx"
            done = subprocess.run([sys.executable, __file__, "--kind", kind, "--source",
                                   str(source), "--target", str(target)],
                                  capture_output=True, text=True, check=False)
            if done.returncode:
                print(f"{kind} failed: {done.stderr[-2000:]}", file=sys.stderr)
                break
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if not runs:
            continue
        table = "yes" if kind in ("xlsxwriter-cells", "xlmonitor-bulk", "master",
                                  "master-without-rows") else "no"
        lines.append(f"| {kind} | {statistics.median(r['seconds'] for r in runs):.2f} | "
                     f"{', '.join(format(r['seconds'], '.2f') for r in runs)} | "
                     f"{runs[0]['size_mb']:.1f} | {max(r['peak_mb'] for r in runs):.0f} | "
                     f"{table} |")
        print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
