"""The look of the master workbook: colours, cell formats (:class:`Styles`), Excel tables
(:func:`add_table`) and Excel's date serials. Shared by every sheet writer of the master."""

from __future__ import annotations

from datetime import date

# -- colours ----------------------------------------------------------------------------
# Traffic-light fills. Pure, distinct colours so a rendered PNG can be checked for them
# (tests/test_publish.py counts pixels near these values). Nothing else on the Dashboard
# (charts, table styles, input cell) uses a colour close to them.
GREEN = "#00B050"
ORANGE = "#FFC000"
RED = "#FF0000"
GREY = "#BFBFBF"
#: status → (fill, font colour); font colours chosen for contrast on the fill.
LIGHT_COLOURS: dict[str, tuple[str, str]] = {
    "groen": (GREEN, "#FFFFFF"),
    "oranje": (ORANGE, "#000000"),
    "rood": (RED, "#FFFFFF"),
    "n.v.t.": (GREY, "#000000"),
}
NAVY = "#1F3864"        # titles, table headers
BLUE = "#2E75B6"        # realised series in charts
SLATE = "#595959"       # expected-to-date line, notes
INPUT_FILL = "#DDEBF7"  # the peilperiode input cell (light blue: far from the light colours)

DATE_FORMAT = "dd-mm-yyyy"
EXCEL_EPOCH = date(1899, 12, 30)


def excel_serial(day: date) -> int:
    """Excel's serial number of a date (1900 date system)."""
    return (day - EXCEL_EPOCH).days


# -- styles -------------------------------------------------------------------------------

class Styles:
    """The formats of the master workbook, made once per workbook."""

    def __init__(self, workbook) -> None:
        add = workbook.add_format
        base = {"font_name": "Calibri", "font_size": 10, "valign": "vcenter"}
        # Body cells of the tables: LibreOffice (and so the PDF) ignores table styles, so
        # rows get a light rule of their own.
        cell = {**base, "bottom": 1, "bottom_color": "#D9D9D9"}
        self.text = add(cell)
        self.quoted = add({**base, "quote_prefix": True})
        self.wrap = add({**cell, "text_wrap": True, "valign": "top"})
        self.wrap_center = add({**cell, "text_wrap": True})
        self.title = add({**base, "bold": True, "font_size": 18, "font_color": NAVY})
        self.subtitle = add({**base, "font_size": 12, "font_color": SLATE})
        self.note = add({**base, "italic": True, "font_color": SLATE})
        self.warning = add({**base, "bold": True, "font_color": "#C00000"})
        self.section = add({**base, "bold": True, "font_size": 12, "font_color": NAVY,
                            "bottom": 2, "bottom_color": NAVY})
        self.label = add({**base, "bold": True})
        self.name = add({**cell, "bold": True})
        self.input = add({**base, "bold": True, "font_size": 12, "bg_color": INPUT_FILL,
                          "border": 1, "border_color": NAVY, "align": "center",
                          "locked": False})
        self.input_date = add({**base, "bold": True, "font_size": 12, "align": "center",
                               "num_format": DATE_FORMAT})
        self.header = add({**base, "bold": True, "text_wrap": True, "valign": "bottom",
                           "font_color": "#FFFFFF", "bg_color": NAVY})
        self.header_center = add({**base, "bold": True, "text_wrap": True, "valign": "bottom",
                                  "font_color": "#FFFFFF", "bg_color": NAVY,
                                  "align": "center"})
        self.header_right = add({**base, "bold": True, "text_wrap": True, "valign": "bottom",
                                 "font_color": "#FFFFFF", "bg_color": NAVY, "align": "right"})
        # Numbers and their "n.v.t." alternative share one right alignment.
        self.count = add({**cell, "num_format": "0", "align": "right"})
        self.count_bold = add({**cell, "num_format": "0", "bold": True, "align": "right"})
        # The stuurindicator of a project: the figure its traffic light is judged on.
        self.count_key = add({**cell, "num_format": "0", "bold": True, "underline": 1,
                              "align": "right"})
        self.total_label = add({**base, "bold": True, "top": 2, "top_color": NAVY})
        self.total = add({**base, "num_format": "0", "bold": True, "align": "right",
                          "top": 2, "top_color": NAVY})
        # Centred: the icon set draws its traffic light at the left edge of the cell.
        self.percent = add({**cell, "num_format": "0%", "align": "center"})
        # Centred, to keep a gap before the next cell's icon (drawn at its left edge).
        self.expected = add({**cell, "num_format": "0", "align": "center"})
        self.small = add({**cell, "font_size": 8, "font_color": SLATE})
        self.date_plain = add({**base, "num_format": DATE_FORMAT, "align": "left"})
        self.percent_plain = add({**cell, "num_format": "0%"})
        self.date = add({**cell, "num_format": DATE_FORMAT, "align": "left"})
        self.datetime = add({**cell, "num_format": "dd-mm-yyyy hh:mm", "align": "left"})
        self.center = add({**cell, "align": "center"})
        self.lights = {status: add({"bg_color": fill, "font_color": font, "bold": True})
                       for status, (fill, font) in LIGHT_COLOURS.items()}


def add_table(sheet, row: int, col: int, headers: list[str], name: str, rows: int = 0, *,
           styles: Styles | None = None, numeric: tuple[str, ...] = (),
           centred: tuple[str, ...] = ("Percentage", "Stoplicht"),
           style: str = "Table Style Light 9", **options: object) -> None:
    """An Excel table with header at ``row``; at least one body row (Excel needs one).

    With ``styles`` the header cells get an explicit format (right-aligned for the
    ``numeric`` columns): Excel shows table styles, LibreOffice and its PDFs do not.
    """
    last = row + max(rows, 1) + (1 if options.get("total_row") else 0)
    columns = []
    for header in headers:
        column: dict[str, object] = {"header": header}
        if styles is not None:
            column["header_format"] = (
                styles.header_right if header in numeric
                else styles.header_center if header in centred else styles.header)
        columns.append(column)
    spec = {"name": name, "style": style, "columns": columns}
    spec.update(options)  # a "columns" option (formats, totals) replaces the plain headers
    sheet.add_table(row, col, last, col + len(headers) - 1, spec)
