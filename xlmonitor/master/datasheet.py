"""The master's ``Data`` sheet (``tblData``), written in bulk.

``tblData`` is the long table with provenance, one row per municipality × period × project:
84,000 rows for a national inbox. XlsxWriter writes the sheet's header, column formats and the
table (:func:`add_data_sheet`); the body rows are rendered here as worksheet XML, column by
column with pyarrow's string kernels, and put into the package after XlsxWriter has closed it
(:func:`write_package`).

Measured on an 84,000-row master (``benchmarks/RESULTS.md``): XlsxWriter's cell-by-cell path
takes ~5 s for this sheet (a Python object per cell, an overlap check per table cell, an XML
writer call per cell); a Python loop per row rendering the same XML ~1 s; the vectorised
rendering here ~0.25 s. The cells are exactly what ``write_string``/``write_number`` would
write: text through XlsxWriter's shared string table (same order, same counts), the column's
format on counts, the date format on Kwartaaleinde, Excel's quote prefix on text that starts
like a formula.

The sheet part is deflated at level 1: it is most of the package and level 6 costs three
times as long for a file about a fifth smaller.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter.utility import xl_col_to_name

from xlmonitor.consolidation.merge import DATA_COLUMNS
from xlmonitor.master.styles import EXCEL_EPOCH, Styles, add_table

__all__ = ["RISKY_START", "DataRows", "add_data_sheet", "write_package"]

#: Text starting with these is written with Excel's quote prefix (stays text when edited).
RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")

COUNT_COLUMNS = ("Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing",
                 "Bemiddeld naar werk")
DATA_WIDTHS = {"Gemeente": 14, "CBS-code": 9, "Periode": 9, "Kwartaaleinde": 12,
               "Projectcode": 18, "Project": 36, "Toelichting": 40, "Bestand": 36,
               "Blad": 12, "Cellen": 22, "sha256": 20}
_SHEET_LEVEL = 1


def add_data_sheet(workbook, styles: Styles, data: pd.DataFrame) -> DataRows:
    """``tblData``: header, column widths and formats now; the rows go into the package
    after the workbook is closed (:func:`write_package`)."""
    sheet = workbook.add_worksheet("Data")
    numeric = [c for c in DATA_COLUMNS if c in COUNT_COLUMNS]
    # One body row here (add_table checks every cell of its range for overlaps: 1.5 s for
    # 84,000 rows); write_package sets the table's range to the real one.
    add_table(sheet, 0, 0, DATA_COLUMNS, "tblData", rows=1, style="Table Style Light 9",
              styles=styles, numeric=tuple(numeric))
    format_columns(sheet, styles)
    sheet.freeze_panes(1, 0)
    rows = DataRows.collect(workbook, styles, data)
    if rows.quoted_needed:
        # XlsxWriter numbers a format when it writes the first cell using it; this cell
        # (replaced by the rows) makes it number the quote prefix where it always did.
        sheet.write_blank(1, 0, None, styles.quoted)
    return rows


def format_columns(sheet, styles: Styles) -> None:
    """tblData's column widths and formats (counts, dates)."""
    for c, column in enumerate(DATA_COLUMNS):
        if column in COUNT_COLUMNS:
            sheet.set_column(c, c, 11, styles.count)
        elif column == "Kwartaaleinde":
            sheet.set_column(c, c, 12, styles.date)
        else:
            sheet.set_column(c, c, DATA_WIDTHS.get(column, 12))


@dataclass
class _Text:
    """A text column: per row the position in ``indices``/``risky`` (-1: empty cell)."""

    codes: np.ndarray
    indices: list[int]   # shared string index per distinct text
    risky: list[bool]    # quote prefix per distinct text


@dataclass
class DataRows:
    """tblData's body, column by column: :class:`_Text` for text, a pyarrow integer array
    (nulls for empty cells) for Kwartaaleinde and the counts."""

    columns: list[_Text | pa.Array]
    styles: Styles
    quoted_needed: bool
    length: int

    @classmethod
    def collect(cls, workbook, styles: Styles, data: pd.DataFrame) -> DataRows:
        # Text goes into XlsxWriter's shared string table now, column by column and in order
        # of first appearance, as write_string would (its own call, stable since 1.0); the
        # table's reference count grows by every further occurrence, as it would.
        table = workbook.str_table
        columns: list[_Text | pa.Array] = []
        risky_seen = False
        for column in DATA_COLUMNS:
            values = data[column]
            if column == "Kwartaaleinde":
                days = (pd.to_datetime(values) - pd.Timestamp(EXCEL_EPOCH)).dt.days
                columns.append(pa.array(days, type=pa.int64(), from_pandas=True))
                continue
            if column in COUNT_COLUMNS:
                columns.append(pa.array(values, type=pa.int64(), from_pandas=True))
                continue
            codes, uniques = pd.factorize(values, sort=False)  # missing: -1
            codes = np.asarray(codes)
            occurrences = np.bincount(codes[codes >= 0], minlength=len(uniques))
            indices, risky = [], []
            for position, (value, seen) in enumerate(zip(uniques, occurrences, strict=True)):
                text = value if isinstance(value, str) else str(value)
                if text:
                    indices.append(table._get_shared_string_index(text))
                    table.count += int(seen) - 1
                    risky.append(text.startswith(RISKY_START))
                else:
                    codes[codes == position] = -1
                    indices.append(-1)
                    risky.append(False)
            risky_seen = risky_seen or any(risky)
            columns.append(_Text(codes, indices, risky))
        return cls(columns, styles, risky_seen, len(data))

    def __len__(self) -> int:
        return self.length

    def xml(self) -> memoryview:
        """The ``<row>`` elements (Excel rows 2…); call after the workbook is closed, when
        XlsxWriter has numbered the formats."""
        if not self.length:
            return memoryview(b"")
        count, day = self.styles.count.xf_index, self.styles.date.xf_index
        prefix = f' s="{self.styles.quoted.xf_index}"'
        numbers = pa.array(np.arange(2, self.length + 2)).cast(pa.string())
        pieces: list[object] = ['<row r="', numbers, f'" spans="1:{len(self.columns)}">']
        for c, (column, values) in enumerate(zip(DATA_COLUMNS, self.columns, strict=True)):
            if isinstance(values, _Text):
                ends = pa.array([
                    None if index < 0 else
                    f'{prefix if risky else ""} t="s"><v>{index}</v></c>'
                    for index, risky in zip(values.indices, values.risky, strict=True)],
                    type=pa.string())
                codes = values.codes
                end = ends.take(pa.array(codes, mask=codes < 0))
            else:
                style = day if column == "Kwartaaleinde" else count
                end = pc.binary_join_element_wise(f' s="{style}"><v>', values.cast(pa.string()),
                                                  "</v></c>", "")
            # Null (an empty cell) where ``end`` is null; left out of the row below.
            pieces.append(pc.binary_join_element_wise(f'<c r="{xl_col_to_name(c)}', numbers,
                                                      '"', end, ""))
        pieces.append("</row>")
        rows = pc.binary_join_element_wise(*pieces, "", null_handling="replace",
                                           null_replacement="")
        return _string_bytes(rows)


def _string_bytes(strings: pa.Array) -> memoryview:
    """All values of a string array, concatenated: its data buffer between the offsets (a
    view, not a copy of its 40 MB)."""
    strings = pa.concat_arrays([strings]) if strings.offset else strings
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=len(strings) + 1)
    return memoryview(strings.buffers()[2])[offsets[0]:offsets[-1]]


def write_package(package: io.BytesIO, target, rows: DataRows) -> None:
    """Copy the closed workbook to ``target`` with tblData's rows, range and dimension."""
    with zipfile.ZipFile(package) as source:
        infos = source.infolist()
        parts = {info.filename: source.read(info) for info in infos}
    sheet_part, table_part = part_of_sheet(parts, "Data"), next(
        name for name in parts if name.startswith("xl/tables/")
        and b'name="tblData"' in parts[name])
    last = f"{xl_col_to_name(len(DATA_COLUMNS) - 1)}{len(rows) + 1}"
    if len(rows) > 1:  # else the one body row add_table made is the range
        parts[table_part] = re.sub(rb'ref="A1:[A-Z]+\d+"', f'ref="A1:{last}"'.encode(),
                                   parts[table_part])
    head, tail = parts[sheet_part].split(b"</sheetData>", 1)
    head = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>'.encode(), head,
                  count=1)
    if len(rows):  # XlsxWriter's sheet has the header row (and a placeholder): keep row 1
        head = head[:head.index(b"<sheetData>") + len(b"<sheetData>")] + re.search(
            rb'<row r="1"[ >].*?</row>', head, re.S).group(0)
    sheet = (head, rows.xml(), b"</sheetData>", tail)
    # The same members, order, names and fixed timestamps: the same data, the same bytes.
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package_out:
        for info in infos:
            if info.filename != sheet_part:
                package_out.writestr(info, parts[info.filename])
                continue
            # As writestr(info, b"".join(sheet), compresslevel=…) would, without the copy.
            info = copy.copy(info)
            info.file_size = sum(len(piece) for piece in sheet)
            info.compress_type = zipfile.ZIP_DEFLATED
            if hasattr(zipfile.ZipInfo, "compress_level"):  # Python 3.13+
                info.compress_level = _SHEET_LEVEL
            else:
                info._compresslevel = _SHEET_LEVEL
            with package_out.open(info, "w") as stream:
                for piece in sheet:
                    stream.write(piece)


def part_of_sheet(parts: dict[str, bytes], name: str) -> str:
    """The zip member of worksheet ``name`` (from workbook.xml and its relationships)."""
    book = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet name="{re.escape(name)}" [^>]*r:id="([^"]+)"', book).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    relation = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels).group(0)
    return "xl/" + re.search(r'Target="([^"]+)"', relation).group(1).lstrip("/").removeprefix(
        "xl/")
