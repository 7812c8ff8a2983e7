"""The standard quarterly workbook a municipality fills in.

CONTRACT (intake relies on it; see docs/architecture.md). Sheet ``Invoer``: A1 title, A3/B3
``Gemeente``, A4/B4 ``Periode``, A5/B5 ``Ingevuld op`` (the only input above the table),
header row 7 (:data:`HEADERS`, columns A–G), one row per project active in the period from
row 8, and — after one blank row — a merged line with saving instructions. Sheet ``Uitleg``
explains it in Dutch. Sheet ``_xlmonitor`` (``veryHidden``) holds :data:`METADATA_KEYS` in
column A and their values in column B.

Only the yellow input cells are unlocked; the sheets are protected *without* a password so a
municipality that really needs to can unprotect, and intake re-checks everything anyway
(protection and data validation are a convenience in Excel, not a guarantee: pasting
bypasses validation).

The same inputs give byte-identical files: the document's creation date is fixed (XlsxWriter
otherwise stamps "now") and XlsxWriter already fixes the zip entries' timestamps.
"""

from __future__ import annotations

import io
import re
import textwrap
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from xlmonitor.atomic import write_bytes_atomically
from xlmonitor.errors import UsageError, WriteError
from xlmonitor.periods import parse_period, period_end, period_start
from xlmonitor.programme.definition import TEMPLATE_VERSION, Programme

__all__ = [
    "FIRST_ROW",
    "HEADERS",
    "HEADER_ROW",
    "INPUT_SHEET",
    "METADATA_KEYS",
    "METADATA_SHEET",
    "build_template",
    "build_templates",
    "template_file_name",
]

INPUT_SHEET = "Invoer"
GUIDE_SHEET = "Uitleg"
METADATA_SHEET = "_xlmonitor"
METADATA_KEYS = ("sjabloonversie", "gemeente", "gemeente_code", "periode", "programma")
HEADER_ROW = 7  # Excel row number of the header
FIRST_ROW = 8  # Excel row number of the first project
HEADERS = ("Projectcode", "Project", "Aanmeldingen", "Gestarte trajecten",
           "Afgeronde scholing", "Bemiddeld naar werk", "Toelichting")
#: Indicator code of each count column C–F, in header order.
COUNT_COLUMNS = ("aanmeldingen", "gestarte_trajecten", "afgeronde_scholing",
                 "bemiddeld_naar_werk")
REMARK_MAX_LENGTH = 500

_COLUMN_WIDTHS = (15, 46, 14, 14, 14, 14, 48)  # A–G, in Excel character units
_YELLOW = "#FFF2CC"  # input cells
_GREY = "#EDEDED"  # fixed cells
_BLUE = "#1F4E78"  # header
_BORDER = "#A6A6A6"
_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december")
_DEFAULT_DROP = "de map voor inzendingen op de gedeelde schijf van de regio"


# -- public ------------------------------------------------------------------------------

def template_file_name(municipality: str, period: str) -> str:
    """``Monitor_Gooise_Meren_2021-Q3.xlsx``: no spaces, nothing Windows forbids."""
    name = re.sub(r'[\s\\/:*?"<>|]+', "_", municipality.strip())
    return f"Monitor_{name}_{period}.xlsx"


def build_template(programme: Programme, municipality: str, period: str, path: str | Path, *,
                   created: datetime | None = None) -> Path:
    """Write the quarterly template for ``municipality`` and ``period`` to ``path``.

    ``municipality`` may be a name, ``Gemeente X`` or a CBS code; ``period`` any spelling
    :func:`~xlmonitor.periods.parse_period` reads (``Q3 2021``). When ``path`` is an existing
    directory the file gets :func:`template_file_name` inside it. ``created`` is the document
    date (default: the first day of the period), so the same inputs give the same bytes.
    Raises :class:`UsageError` (Dutch) for an unknown municipality or a period that is invalid
    or outside the programme, :class:`WriteError` when the file cannot be written.
    """
    name = _resolve_municipality(programme, municipality)
    period = _resolve_period(programme, period)
    path = Path(path)
    if path.is_dir():
        path = path / template_file_name(name, period)
    return _write_atomically(path, _template_bytes(programme, name, period, created))


def build_templates(programme: Programme, period: str, outdir: str | Path, *,
                    created: datetime | None = None) -> list[Path]:
    """One template per municipality of the programme in ``outdir`` (created if needed)."""
    period = _resolve_period(programme, period)
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"De map {outdir} kan niet worden gemaakt ({exc.strerror}).") from exc
    return [build_template(programme, str(name), period, outdir / template_file_name(
        str(name), period), created=created) for name in programme.municipalities.index]


# -- checking the arguments ----------------------------------------------------------------

def _resolve_municipality(programme: Programme, text: str) -> str:
    name = programme.municipality(text)
    if name is None:
        choices = ", ".join(str(n) for n in programme.municipalities.index)
        raise UsageError(f"Onbekende gemeente '{text}'. Kies uit: {choices}.")
    return name


def _resolve_period(programme: Programme, text: str) -> str:
    period = parse_period(text)
    if period is None:
        raise UsageError(f"Ongeldige periode '{text}'. Schrijf een kwartaal als 2021-Q3.")
    if period_end(period) < programme.start or period_start(period) > programme.end:
        raise UsageError(
            f"Periode {period} valt buiten de looptijd van het programma "
            f"({programme.start:%d-%m-%Y} t/m {programme.end:%d-%m-%Y}).")
    if programme.active_projects(period).empty:
        raise UsageError(f"In periode {period} loopt geen enkel project; er is niets in te vullen.")
    return period


# -- writing -------------------------------------------------------------------------------

def _write_atomically(path: Path, data: bytes) -> Path:
    """Write beside ``path``, then replace it: never a half-written template."""
    try:
        write_bytes_atomically(path, data)
    except OSError as exc:
        raise WriteError(
            f"Het sjabloon {path.name} kan niet worden opgeslagen in {path.parent} "
            f"({exc.strerror}). Is het bestand geopend in Excel? Sluit het en probeer opnieuw."
        ) from exc
    return path


def _template_bytes(programme: Programme, municipality: str, period: str,
                    created: datetime | None) -> bytes:
    if created is None:
        first = period_start(period)
        created = datetime(first.year, first.month, first.day)
    elif not isinstance(created, datetime):  # a plain date
        created = datetime(created.year, created.month, created.day)
    buffer = io.BytesIO()
    # Programme texts are written as text, never as formulas or links.
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False,
                                            "strings_to_numbers": False})
    programme_name = str(programme.settings.get("naam", ""))
    workbook.set_properties({
        "title": f"Kwartaalrapportage {municipality} {period}",
        "subject": programme_name,
        "author": str(programme.settings.get("regio", "")),
        "comments": f"Sjabloon versie {TEMPLATE_VERSION}",
        "created": created.replace(tzinfo=None),
    })
    styles = _Styles(workbook)
    _write_input_sheet(workbook, styles, programme, municipality, period)
    _write_guide_sheet(workbook, styles, programme, municipality, period)
    _write_metadata_sheet(workbook, programme, municipality, period)
    workbook.close()
    return buffer.getvalue()


class _Styles:
    """The few cell formats, made once per workbook."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        border = {"border": 1, "border_color": _BORDER, "valign": "vcenter"}
        add = workbook.add_format
        self.title = add({"bold": True, "font_size": 14, "font_color": _BLUE})
        self.subtitle = add({"italic": True, "font_color": "#595959"})
        self.label = add({"bold": True, "valign": "vcenter"})
        self.fixed_bold = add({**border, "bold": True, "bg_color": _GREY})
        self.fixed = add({**border, "bg_color": _GREY, "text_wrap": True})
        self.hint = add({"italic": True, "font_color": "#595959", "valign": "vcenter", "indent": 1})
        self.header = add({**border, "bold": True, "font_color": "#FFFFFF", "bg_color": _BLUE,
                           "text_wrap": True, "align": "center"})
        self.input_date = add({**border, "bg_color": _YELLOW, "locked": False,
                               "num_format": "dd-mm-yyyy", "align": "left"})
        self.input_count = add({**border, "bg_color": _YELLOW, "locked": False,
                                "num_format": "0"})
        # "@" (text) keeps Excel from turning a remark such as "3-4" into a date.
        self.input_text = add({**border, "bg_color": _YELLOW, "locked": False,
                               "num_format": "@", "text_wrap": True})
        self.note = add({"italic": True, "text_wrap": True, "valign": "top",
                         "font_color": "#404040"})
        self.guide_heading = add({"bold": True, "font_size": 12, "font_color": _BLUE})
        self.guide_text = add({"text_wrap": True, "valign": "top"})
        self.guide_term = add({"bold": True, "text_wrap": True, "valign": "top"})


def _write_input_sheet(workbook, styles: _Styles, programme: Programme, municipality: str,
                       period: str) -> None:
    """Sheet ``Invoer``: who and when (locked), one row per project with yellow input cells,
    and where to save the file."""
    sheet = workbook.add_worksheet(INPUT_SHEET)
    projects = programme.active_projects(period)  # programme order: stable, as staff keep it
    # Codes are capitals, wider than the digit "0" that defines Excel's column width unit.
    widths = list(_COLUMN_WIDTHS)
    widths[0] = max(widths[0], round(1.3 * max(len(str(c)) for c in projects.index)) + 2)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.hide_gridlines(2)

    _write_identity(sheet, styles, programme, municipality, period)
    header = HEADER_ROW - 1  # zero-based
    last_row = _write_project_rows(sheet, styles, programme, projects, widths, header)
    note_row = last_row + 2
    note = (f"Opslaan: bewaar dit bestand als {template_file_name(municipality, period)} in "
            f"{_drop_location(programme)}. Voeg geen rijen, kolommen of bladen toe; het "
            "bestand wordt automatisch ingelezen. Zet nergens persoonsgegevens in.")
    sheet.merge_range(note_row, 0, note_row, 6, note, styles.note)
    sheet.set_row(note_row, 15 * _line_count(note, sum(widths)))

    sheet.freeze_panes(header + 1, 0)
    sheet.set_selection("B5")
    sheet.protect("", {"format_columns": True, "format_rows": True})
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header)
    # No explicit print area (the used range is the same): LibreOffice exports a *hidden*
    # sheet to PDF when it has one, which breaks exporting a single sheet.
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.set_footer(f"&L&8{_escape_header(municipality)} · {period}&R&8Pagina &P van &N")
    sheet.activate()


def _write_identity(sheet, styles: _Styles, programme: Programme, municipality: str,
                    period: str) -> None:
    """Rows 1-5: title, municipality and period (locked), the fill-in date (validated)."""
    first, last = period_start(period), period_end(period)
    sheet.write_string("A1", f"Kwartaalrapportage {programme.settings.get('naam', '')}",
                       styles.title)
    sheet.write_string("A2", "Vul alleen de gele cellen in; de grijze cellen liggen vast. "
                             "Uitleg staat op het blad 'Uitleg'.", styles.subtitle)
    sheet.write_string("A3", "Gemeente", styles.label)
    sheet.write_string("B3", municipality, styles.fixed_bold)
    sheet.write_string("A4", "Periode", styles.label)
    sheet.write_string("B4", period, styles.fixed_bold)
    sheet.write_string("C4", _period_in_words(period), styles.hint)
    sheet.write_string("A5", "Ingevuld op", styles.label)
    sheet.write_blank("B5", None, styles.input_date)
    sheet.write_string("C5", "datum waarop u dit bestand invult (dag-maand-jaar)", styles.hint)
    example = date(last.year + (last.month == 12), last.month % 12 + 1, 15)
    latest = date(last.year + 2, 12, 31)
    _validate(sheet, "B5", {
        "validate": "date", "criteria": "between",
        "minimum": datetime(first.year, first.month, first.day),
        "maximum": datetime(latest.year, latest.month, latest.day),
        "input_title": "Datum van invullen",
        "input_message": f"Vul de datum in waarop u dit bestand invult, bijvoorbeeld "
                         f"{example:%d-%m-%Y}.",
        "error_title": "Geen geldige datum",
        "error_message": f"Vul een datum in als dag-maand-jaar, bijvoorbeeld "
                         f"{example:%d-%m-%Y}. De datum ligt tussen {first:%d-%m-%Y} en "
                         f"{latest:%d-%m-%Y}.",
    })


def _write_project_rows(sheet, styles: _Styles, programme: Programme, projects,
                        widths: list[float], header: int) -> int:
    """The header at row ``header`` and a row per project, input cells validated; returns
    the last project row."""
    sheet.set_row(header, 32)
    for column, text in enumerate(HEADERS):
        sheet.write_string(header, column, text, styles.header)
    row = header
    for row, (code, project) in enumerate(projects.iterrows(), start=header + 1):
        name = str(project["naam"])
        sheet.write_string(row, 0, str(code), styles.fixed)
        sheet.write_string(row, 1, name, styles.fixed)
        for column in range(2, 6):
            sheet.write_blank(row, column, None, styles.input_count)
        sheet.write_blank(row, 6, None, styles.input_text)
        sheet.set_row(row, max(18, 15 * _line_count(name, widths[1])))
    last_row = row
    for column, code in enumerate(COUNT_COLUMNS, start=2):
        _validate_counts(sheet, programme, header + 1, last_row, column, code)
    _validate(sheet, (header + 1, 6, last_row, 6), {
        "validate": "length", "criteria": "<=", "value": REMARK_MAX_LENGTH,
        "input_title": "Toelichting (mag leeg blijven)",
        "input_message": f"Korte toelichting bij de cijfers van dit project, hoogstens "
                         f"{REMARK_MAX_LENGTH} tekens. Geen persoonsgegevens: geen namen, "
                         f"BSN, adressen of geboortedata.",
        "error_title": "Toelichting te lang",
        "error_message": f"Een toelichting is hoogstens {REMARK_MAX_LENGTH} tekens. "
                         "Maak de tekst korter.",
    })
    return last_row


def _validate_counts(sheet, programme: Programme, first_row: int, last_row: int, column: int,
                     code: str) -> None:
    """Whole numbers from 0 up to the programme's plausibility bound, with the indicator's
    meaning as the input message."""
    label = str(programme.label(code)) if code in programme.indicators.index else HEADERS[column]
    meaning = ""
    if code in programme.indicators.index:
        text = programme.indicators.at[code, "omschrijving"]
        if isinstance(text, str) and text.strip():
            meaning = text.strip().rstrip(".") + ". "
    rule = ("Vul een geheel getal in (0 of meer): het aantal in dit kwartaal, niet opgeteld. "
            "Niets gebeurd? Vul 0 in.")
    # Excel refuses prompts over 255 characters; shorten the (staff-edited) meaning first.
    room = 255 - len(rule)
    if len(meaning) > room:
        meaning = meaning[:room - 2].rstrip() + "… "
    maximum = f"{programme.max_count:,}".replace(",", ".")  # Dutch: 10.000
    _validate(sheet, (first_row, column, last_row, column), {
        "validate": "integer", "criteria": "between", "minimum": 0,
        "maximum": programme.max_count,
        "input_title": _shorten(label, 32),
        "input_message": meaning + rule,
        "error_title": "Alleen hele aantallen",
        "error_message": f"Vul hier een geheel getal van 0 tot en met {maximum} in, zoals 0, 3 "
                         "of 12: het aantal van dit kwartaal, geen tekst, decimalen, negatieve "
                         "getallen of totalen.",
    })


def _validate(sheet, where, options: dict) -> None:
    """``worksheet.data_validation`` that fails loudly: XlsxWriter only warns on bad input."""
    args = (where,) if isinstance(where, str) else tuple(where)
    if sheet.data_validation(*args, options) != 0:
        raise ValueError(f"data validation rejected by XlsxWriter: {options!r}")


def _write_guide_sheet(workbook, styles: _Styles, programme: Programme, municipality: str,
                       period: str) -> None:
    """Sheet ``Uitleg``: the Dutch instructions (:func:`_guide`), one paragraph per row."""
    sheet = workbook.add_worksheet(GUIDE_SHEET)
    sheet.hide_gridlines(2)
    term_width, text_width = 22, 78  # fits A4 portrait at 100%
    sheet.set_column(0, 0, term_width)
    sheet.set_column(1, 1, text_width)
    sheet.set_portrait()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)

    sheet.write_string(0, 0, "Uitleg bij de kwartaalrapportage", styles.title)
    sheet.write_string(1, 0, f"{programme.settings.get('naam', '')} · {municipality} · "
                             f"{period} ({_period_in_words(period)})", styles.subtitle)
    row = 2
    for title, paragraphs in _guide(programme, municipality, period):
        row += 1
        sheet.write_string(row, 0, title, styles.guide_heading)
        row += 1
        for term, text in paragraphs:
            if term:
                sheet.write_string(row, 0, term, styles.guide_term)
                sheet.write_string(row, 1, text, styles.guide_text)
                lines = max(_line_count(text, text_width), _line_count(term, term_width))
            else:
                sheet.merge_range(row, 0, row, 1, text, styles.guide_text)
                lines = _line_count(text, term_width + text_width)
            sheet.set_row(row, 15 * lines)
            row += 1
    sheet.protect("", {"format_columns": True, "format_rows": True})


def _guide(programme: Programme, municipality: str,
           period: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The instructions as (heading, [(term, paragraph), …]); term "" for plain text."""
    sections: list[tuple[str, list[tuple[str, str]]]] = []

    def heading(text: str) -> None:
        sections.append((text, []))

    def paragraph(text: str, term: str = "") -> None:
        sections[-1][1].append((term, text))

    file_name = template_file_name(municipality, period)
    heading("Wat vult u in?")
    paragraph("Op het blad 'Invoer' staat één rij per project dat in dit kwartaal liep. Vul per "
              "project de aantallen in de gele cellen in. De grijze cellen (gemeente, periode, "
              "projectcode en projectnaam) liggen vast.")
    paragraph("Vul bij 'Ingevuld op' (cel B5) de datum in waarop u het bestand invult.")
    paragraph(f"Dit bestand is gemaakt voor {municipality}, {period}. Gebruik het niet (ook "
              "niet als kopie) voor een ander kwartaal of een andere gemeente: het bestand "
              "onthoudt waarvoor het is gemaakt en wordt dan afgekeurd. Voor elk kwartaal krijgt "
              "u een eigen bestand van het regionale team.")

    heading("Aantallen over dit kwartaal")
    paragraph("Vul in wat er in dit kwartaal is bijgekomen, niet het totaal sinds de start van "
              "het project. Voorbeeld: zijn er vóór dit kwartaal al 5 inwoners aangemeld en in "
              "dit kwartaal 3, vul dan 3 in, niet 8. De regio telt de kwartalen zelf op.")
    maximum = f"{programme.max_count:,}".replace(",", ".")
    paragraph(f"Alleen hele getallen van 0 tot en met {maximum}; meer haalt één project in één "
              "kwartaal niet. Excel weigert andere waarden.")

    heading("Wat betekenen de kolommen?")
    for code, header in zip(COUNT_COLUMNS, HEADERS[2:6], strict=True):
        meaning = ""
        if code in programme.indicators.index:
            meaning = programme.indicators.at[code, "omschrijving"]
        meaning = meaning.strip() if isinstance(meaning, str) else ""
        paragraph(meaning.rstrip(".") + "." if meaning else "Aantal in dit kwartaal.", header)
    paragraph(f"Korte uitleg bij opvallende cijfers, hoogstens {REMARK_MAX_LENGTH} tekens. Mag "
              "leeg blijven.", "Toelichting")

    heading("Leeg of 0?")
    paragraph("Is er in dit kwartaal niets gebeurd, vul dan 0 in. Een lege cel betekent 'niet "
              "ingevuld': de regio ziet dan dat het cijfer ontbreekt en vraagt ernaar.")
    paragraph("Doet uw gemeente niet mee aan een project, vul dan 0 in en zet 'doet niet mee' "
              "in de toelichting. Mist er een project? Voeg zelf geen rij toe, maar meld het "
              "bij het regionale team.")

    heading("Geen persoonsgegevens")
    paragraph("Zet nergens in dit bestand namen, BSN's, adressen, geboortedata of andere "
              "gegevens waarmee iemand te herkennen is, ook niet in de toelichting. Het bestand "
              "bevat alleen aantallen.")

    heading("Opslaan en inleveren")
    paragraph(f"Bewaar het bestand als {file_name} in {_drop_location(programme)}. Houd het "
              "bestandstype .xlsx.")
    paragraph("Voeg geen bladen, rijen of kolommen toe en verander de volgorde niet: het "
              "bestand wordt automatisch ingelezen. De bladen zijn daarom beveiligd (zonder "
              "wachtwoord).")

    heading("Wat gebeurt er daarna?")
    paragraph("Het regionale team controleert alle bestanden automatisch en neemt de cijfers op "
              "in de monitor.")
    paragraph(f"Klopt er iets niet, dan krijgt u een controlebestand terug: "
              f"{file_name.removesuffix('.xlsx')}.controle.xlsx. Daarin zijn de cellen om na te "
              "kijken gemarkeerd en staat op een apart blad wat er aan de hand is. Een 'fout' "
              "moet u verbeteren voordat de cijfers meetellen; een 'waarschuwing' is een "
              "verzoek om het cijfer na te kijken.")
    paragraph(f"Verbeter de cijfers in uw eigen bestand ({file_name}) en sla het opnieuw op "
              "dezelfde plek op. De nieuwste versie telt.")

    contact = str(programme.settings.get("contact", "") or "").strip()
    heading("Vragen?")
    paragraph(f"Neem contact op met {contact}." if contact else
              f"Neem contact op met het regionale team van "
              f"{programme.settings.get('regio', 'de regio')}.")
    return sections


def _write_metadata_sheet(workbook, programme: Programme, municipality: str,
                          period: str) -> None:
    sheet = workbook.add_worksheet(METADATA_SHEET)
    values = (TEMPLATE_VERSION, municipality, programme.cbs_code(municipality), period,
              str(programme.settings.get("naam", "")))
    for row, (key, value) in enumerate(zip(METADATA_KEYS, values, strict=True)):
        # Strings, so "1.0" stays the text "1.0" and is not read back as the number 1.
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, str(value))
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 40)
    sheet.protect()
    # veryHidden: not listed under "Unhide" in Excel, only VBA or a reader can see it.
    sheet.very_hidden()


# -- small helpers ---------------------------------------------------------------------------

def _period_in_words(period: str) -> str:
    """``2021-Q3`` → ``1 juli t/m 30 september 2021``."""
    first, last = period_start(period), period_end(period)
    return f"{first.day} {_MONTHS[first.month - 1]} t/m {last.day} {_MONTHS[last.month - 1]} " \
           f"{last.year}"


def _drop_location(programme: Programme) -> str:
    """Where municipalities save their file: the optional programme setting ``inlevermap``."""
    place = str(programme.settings.get("inlevermap", "") or "").strip()
    return f"de map {place}" if place else _DEFAULT_DROP


def _line_count(text: str, width: float) -> int:
    """Lines a wrapped cell needs. Excel never grows a row to fit wrapped text in merged cells
    and need not re-measure rows of a generated file on opening, so heights are set
    explicitly, erring on the generous side."""
    return max(1, len(textwrap.wrap(text, width=max(int(width * 1.15), 10))))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _escape_header(text: str) -> str:
    """``&`` starts a control code in Excel page headers and footers."""
    return text.replace("&", "&&")
