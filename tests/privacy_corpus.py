"""The labelled personal-data corpus (issue 17): where a BSN can hide, and what only looks
like one.

``python tests/privacy_corpus.py`` (re)writes ``tests/data/privacy/``: small workbooks made
with XlsxWriter (fixed dates, so the same bytes every time), the .ods and .xls versions of some
of them converted by LibreOffice, and ``labels.csv``, one line per labelled item:

* ``positief``: a BSN in one place (``cel``, ``notitie``, ``opmerking`` (threaded comment),
  ``bladnaam``, ``naam``, ``kop-voettekst``, ``eigenschap``, ``validatie``, ``tekstvak``,
  ``grafiek``), in one spelling (``aaneen`` 123456782, ``punten`` 1234.56.782, ``spaties``
  123 456 782, ``streepjes`` 123-456-782, or ``getal``: stored as a number), with the sheet and
  cell where its finding must be and the value masked as the finding shows it;
* ``negatief``: nine digits that pass the eleven-test but are an amount (currency, thousands,
  decimals, percentage, under a header naming an amount), or something else that looks like a
  number (dates, postcodes, CBS and KvK codes, IBANs, organisations' phone numbers, counts).

A positive of a converted file is labelled only if its text survived the conversion (the .xls
keeps no threaded comments, text boxes or charts' titles as text xlmonitor can place); its place
in an .xls is the file (``elders``) unless it is a cell or a sheet name.
``tests/test_privacy_corpus.py`` measures recall and rejections on it.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

CORPUS = Path(__file__).parent / "data" / "privacy"
LABELS = CORPUS / "labels.csv"
CREATED = datetime(2021, 10, 18, 9, 0, 0)

SHORT_BSN = "012345611"  # typed as a number, Excel keeps 12345611: still a BSN
SPELLINGS = ("aaneen", "punten", "spaties", "streepjes")


def spelled(digits: str, spelling: str) -> str:
    if spelling == "punten":
        return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"
    if spelling in ("spaties", "streepjes"):
        sep = " " if spelling == "spaties" else "-"
        return sep.join((digits[:3], digits[3:6], digits[6:]))
    return digits


def masked(digits: str) -> str:
    return "*****" + digits[-4:]


@dataclass
class Label:
    file: str
    polarity: str          # positief | negatief
    place: str             # cel, notitie, bladnaam, ... (see the module docstring)
    spelling: str          # aaneen, punten, spaties, streepjes, getal; "" for a negative
    sheet: str = ""        # where the finding must be ("" = the file)
    cell: str = ""
    masked: str = ""       # the finding's value (positives)
    text: str = ""         # what is written (positives: the raw text only for the generator)
    what: str = ""         # a negative: what it is


class _Bsns:
    """Hands out valid BSNs (eleven-test) one by one: every positive gets its own, with its own
    last four digits, so its masked value names it."""

    def __init__(self) -> None:
        self.candidate, self.endings = 123456782, set()

    def __call__(self) -> str:
        while True:
            digits = f"{self.candidate:09d}"
            self.candidate += 7919
            total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1),
                                                   strict=True))
            if total % 11 == 0 and digits[-4:] not in self.endings:
                self.endings.add(digits[-4:])
                return digits


def _book(name: str) -> xlsxwriter.Workbook:
    workbook = xlsxwriter.Workbook(str(CORPUS / name))
    workbook.set_properties({"created": CREATED})
    return workbook


# -- positives --------------------------------------------------------------------------------

def _cells(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-cellen.xlsx", []
    workbook = _book(name)
    sheet = workbook.add_worksheet("Invoer")
    sheet.write_row(0, 0, ["Naam", "Nummer", "Opmerking", "Nog een", "BSN"])
    for row, spelling in enumerate(SPELLINGS, start=1):
        digits = take()
        text = f"cliënt {spelled(digits, spelling)} gestart"
        sheet.write_string(row, 2, text)
        labels.append(Label(name, "positief", "cel", spelling, "Invoer", f"C{row + 1}",
                            masked(digits), text))
    as_number = [(take(), None), (take(), workbook.add_format({"num_format": "000000000"})),
                 (SHORT_BSN, None)]
    for row, (digits, style) in enumerate(as_number, start=1):
        sheet.write_number(row, 1, int(digits), style)
        labels.append(Label(name, "positief", "cel", "getal", "Invoer", f"B{row + 1}",
                            masked(digits), digits))
    digits = take()  # a header naming a BSN outweighs a thousands format
    sheet.write_number(1, 4, int(digits), workbook.add_format({"num_format": "#,##0"}))
    labels.append(Label(name, "positief", "cel", "getal", "Invoer", "E2", masked(digits), digits))
    digits = take()
    bold = workbook.add_format({"bold": True})
    sheet.write_rich_string(1, 3, bold, "Dossier ", f"nummer {spelled(digits, 'punten')}")
    labels.append(Label(name, "positief", "cel", "punten", "Invoer", "D2", masked(digits),
                        spelled(digits, "punten")))
    for title, state in (("Notities", "hidden"), ("Oud", "very_hidden")):
        other = workbook.add_worksheet(title)
        getattr(other, "hide" if state == "hidden" else "very_hidden")()
        digits = take()
        other.write_string(3, 2, spelled(digits, "spaties"))
        labels.append(Label(name, "positief", "cel", "spaties", title, "C4", masked(digits),
                            spelled(digits, "spaties")))
        digits = take()
        other.write_number(4, 2, int(digits))
        labels.append(Label(name, "positief", "cel", "getal", title, "C5", masked(digits), digits))
    workbook.close()
    return labels


def _notes(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-notities.xlsx", []
    workbook = _book(name)
    sheet = workbook.add_worksheet("Invoer")
    sheet.write_row(0, 0, ["Project", "Aanmeldingen"])
    for row, spelling in enumerate(SPELLINGS, start=8):
        digits = take()
        text = f"cliënt BSN {spelled(digits, spelling)} gestart"
        sheet.write_number(row, 2, 3)
        sheet.write_comment(row, 2, text, {"author": "Collega"})
        labels.append(Label(name, "positief", "notitie", spelling, "Invoer", f"C{row + 1}",
                            masked(digits), text))
    workbook.close()
    threaded = []
    for row, spelling in ((5, "aaneen"), (6, "streepjes")):
        digits = take()
        text = f"@Collega graag nakijken: {spelled(digits, spelling)}"
        threaded.append((f"E{row}", text))
        labels.append(Label(name, "positief", "opmerking", spelling, "Invoer", f"E{row}",
                            masked(digits), text))
    _add_threaded_comments(CORPUS / name, threaded)
    return labels


def _sheet_names(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-bladnamen.xlsx", []
    workbook = _book(name)
    workbook.add_worksheet("Invoer").write_string(0, 0, "Project")
    for spelling, prefix, state in (("aaneen", "Cliënt ", None), ("punten", "", "hidden"),
                                    ("spaties", "", "very_hidden"), ("streepjes", "BSN ", None)):
        digits = take()
        title = f"{prefix}{spelled(digits, spelling)}"
        sheet = workbook.add_worksheet(title)
        sheet.write_string(0, 0, "gesprek")
        if state:
            getattr(sheet, "hide" if state == "hidden" else "very_hidden")()
        # Findings show a sheet's name masked, as every other place.
        labels.append(Label(name, "positief", "bladnaam", spelling,
                            title.replace(spelled(digits, spelling), masked(digits)), "",
                            masked(digits), title))
    workbook.close()
    return labels


def _names(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-namen.xlsx", []
    workbook = _book(name)
    workbook.add_worksheet("Invoer").write_string(0, 0, "Project")
    digits = take()
    workbook.define_name(f"Klant_{digits}", "=Invoer!$A$1")
    labels.append(Label(name, "positief", "naam", "aaneen", "", "", masked(digits), digits))
    for spelling in ("punten", "spaties", "streepjes"):
        digits = take()
        workbook.define_name(f"Dossier_{spelling}", f'="{spelled(digits, spelling)}"')
        labels.append(Label(name, "positief", "naam", spelling, "", "", masked(digits),
                            spelled(digits, spelling)))
    digits = take()
    workbook.define_name("Invoer!Nummer", f"={int(digits)}")
    labels.append(Label(name, "positief", "naam", "getal", "", "", masked(digits), digits))
    workbook.close()
    # Regression: the only BSN of the file in an XML attribute (a name's name), which a look
    # at the part's text alone missed.
    name = "bsn-alleen-in-een-attribuut.xlsx"
    workbook = _book(name)
    workbook.add_worksheet("Invoer").write_string(0, 0, "Project")
    digits = take()
    workbook.define_name(f"Klant_{digits}", "=Invoer!$A$1")
    labels.append(Label(name, "positief", "naam", "aaneen", "", "", masked(digits), digits))
    workbook.close()
    return labels


def _headers(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-kop-en-voettekst.xlsx", []
    workbook = _book(name)
    for sheet_name in ("Invoer", "Toelichting"):
        sheet = workbook.add_worksheet(sheet_name)
        sheet.write_string(0, 0, "Project")
        pair = []
        for spelling in (SPELLINGS[:2] if sheet_name == "Invoer" else SPELLINGS[2:]):
            digits = take()
            pair.append(spelled(digits, spelling))
            labels.append(Label(name, "positief", "kop-voettekst", spelling, sheet_name, "",
                                masked(digits), spelled(digits, spelling)))
        sheet.set_header(f"&LCliënt {pair[0]}&RMonitor")
        sheet.set_footer(f"&Cdossier {pair[1]}")
    workbook.close()
    return labels


def _properties(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-documenteigenschappen.xlsx", []
    workbook = _book(name)
    workbook.add_worksheet("Invoer").write_string(0, 0, "Project")
    values = {}
    for field_name, spelling in (("title", "aaneen"), ("subject", "punten"),
                                 ("keywords", "spaties"), ("comments", "streepjes"),
                                 ("company", "aaneen"), ("manager", "punten")):
        digits = take()
        values[field_name] = f"Dossier {spelled(digits, spelling)}"
        labels.append(Label(name, "positief", "eigenschap", spelling, "", "", masked(digits),
                            spelled(digits, spelling)))
    workbook.set_properties({**values, "created": CREATED})
    digits = take()
    workbook.set_custom_property("Cliëntnummer", spelled(digits, "spaties"))
    labels.append(Label(name, "positief", "eigenschap", "spaties", "", "", masked(digits),
                        spelled(digits, "spaties")))
    workbook.close()
    return labels


def _validation(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-gegevensvalidatie.xlsx", []
    workbook = _book(name)
    sheet = workbook.add_worksheet("Invoer")
    sheet.write_string(0, 0, "Project")
    digits = [take() for _ in range(4)]
    sheet.data_validation("B2:B20", {
        "validate": "integer", "criteria": ">=", "value": 0,
        "input_title": f"Cliënt {spelled(digits[0], 'aaneen')}",
        "input_message": f"Vul in voor {spelled(digits[1], 'punten')}",
        "error_title": "Geen geheel getal",
        "error_message": f"Vraag {spelled(digits[2], 'spaties')} om hulp"})
    sheet.data_validation("C2:C20", {"validate": "list",
                                     "source": ["gestart", spelled(digits[3], "streepjes")]})
    for value, spelling, cell in zip(digits, SPELLINGS, ("B2", "B2", "B2", "C2"), strict=True):
        labels.append(Label(name, "positief", "validatie", spelling, "Invoer", cell,
                            masked(value), spelled(value, spelling)))
    workbook.close()
    return labels


def _shapes(take: _Bsns) -> list[Label]:
    name, labels = "bsn-in-tekstvak-en-grafiek.xlsx", []
    workbook = _book(name)
    sheet = workbook.add_worksheet("Invoer")
    sheet.write_column(0, 0, ["Project", 3, 4, 5])
    digits = take()
    sheet.insert_textbox("D2", f"Bel cliënt {spelled(digits, 'punten')} terug")
    labels.append(Label(name, "positief", "tekstvak", "punten", "Invoer", "", masked(digits),
                        spelled(digits, "punten")))
    digits = take()
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"values": "=Invoer!$A$2:$A$4"})
    chart.set_title({"name": f"Trajecten {spelled(digits, 'spaties')}"})
    sheet.insert_chart("D10", chart)
    labels.append(Label(name, "positief", "grafiek", "spaties", "", "", masked(digits),
                        spelled(digits, "spaties")))
    workbook.close()
    return labels


def _add_threaded_comments(path: Path, comments: list[tuple[str, str]]) -> None:
    """Excel 365's threaded comments (XlsxWriter writes only notes): the part, its relation
    from the first sheet and its content type."""
    items = "".join(
        f'<threadedComment ref="{ref}" dT="2021-10-18T10:00:00.00" '
        f'personId="{{00000000-0000-0000-0000-000000000001}}" '
        f'id="{{00000000-0000-0000-0000-00000000001{n}}}"><text>{text}</text></threadedComment>'
        for n, (ref, text) in enumerate(comments))
    part = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments '
            'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments" '
            f'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{items}'
            "</ThreadedComments>")
    relation = ('<Relationship Id="rIdTC1" Type="http://schemas.microsoft.com/office/2017/10/'
                'relationships/threadedComment" Target="../threadedComments/'
                'threadedComment1.xml"/></Relationships>')
    override = ('<Override PartName="/xl/threadedComments/threadedComment1.xml" '
                'ContentType="application/vnd.ms-excel.threadedcomments+xml"/></Types>')
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == "xl/worksheets/_rels/sheet1.xml.rels":
                data = data.replace(b"</Relationships>", relation.encode())
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", override.encode())
            target.writestr(info, data)
        info = zipfile.ZipInfo("xl/threadedComments/threadedComment1.xml", (1980, 1, 1, 0, 0, 0))
        target.writestr(info, part.encode(), zipfile.ZIP_DEFLATED)
    path.write_bytes(out.getvalue())


# -- negatives --------------------------------------------------------------------------------

#: Nine digits that pass the eleven-test, as amounts (value, header, number format, what).
AMOUNTS = [
    (123456782, "Bedrag", "€ #,##0", "bedrag in euro"),
    (124019031, "Overig", "[$€-413] #,##0", "euro (valutacode)"),
    (124042788, "Overig", "#,##0.00", "decimalen in de opmaak"),
    (124145735, "Overig", "0%", "percentage"),
    (124193249, "Overig", "0.00E+00", "wetenschappelijke notatie"),
    (124209087, "Bedrag", "#,##0", "duizendtallen onder 'Bedrag'"),
    (124438738, "Budget 2024", None, "onder 'Budget 2024'"),
    (124494171, "Kosten", None, "onder 'Kosten'"),
    (124620875, "Subsidie", "#,##0", "duizendtallen onder 'Subsidie'"),
    (124723822, "Overig", "#,##0", "duizendtallen"),
    (124739660, "Euro", None, "onder 'Euro'"),
]
#: Amounts as text (text, header, what).
AMOUNT_TEXTS = [
    ("€ 124.771.336", "Overig", "euroteken"),
    ("124.787.174,00", "Overig", "centen"),
    ("124913878", "Begroting", "onder 'Begroting'"),
]
#: Other numbers (value, header, what); an int is written as a number, a str as text, a date
#: as a date.
OTHER = [
    (date(2021, 10, 18), "Datum", "datum"), ("18-10-2021", "Datum", "datum als tekst"),
    ("2021-10-18", "Datum", "datum (ISO)"), ("1234 AB", "Postcode", "postcode"),
    ("GM0381", "CBS-code", "CBS-gemeentecode"), ("WK038101", "CBS-code", "CBS-wijkcode"),
    ("BU03810100", "CBS-code", "CBS-buurtcode"), (12345672, "KvK-nummer", "KvK als getal"),
    ("12345672", "KvK-nummer", "KvK als tekst"), ("NL91ABNA0417164300", "IBAN", "IBAN"),
    ("NL91 ABNA 0417 1643 00", "IBAN", "IBAN met spaties"),
    ("035-1234567", "Telefoon", "telefoonnummer"), ("035 123 4567", "Telefoon", "telefoon"),
    ("+31 35 123 4567", "Telefoon", "telefoon internationaal"),
    (351234561, "Telefoon", "telefoon als getal (0 weggevallen)"),
    (12, "Aantal", "aantal"), (240, "Aantal", "aantal"), (1500, "Aantal", "aantal"),
    (2021, "Jaar", "jaartal"), ("2021-Q3", "Kwartaal", "kwartaal"),
    (1234567.82, "Overig", "getal met decimalen"), ("1.234.567", "Overig", "bedrag, 7 cijfers"),
]


def _negatives() -> list[Label]:
    labels = []
    name = "bedragen.xlsx"
    workbook = _book(name)
    sheet = workbook.add_worksheet("Begroting")
    sheet.write_row(0, 0, ["Post", "Bedrag", "Overig", "Budget 2024", "Kosten", "Subsidie",
                           "Euro", "Begroting"])
    columns = {"Bedrag": 1, "Overig": 2, "Budget 2024": 3, "Kosten": 4, "Subsidie": 5,
               "Euro": 6, "Begroting": 7}
    rows = dict.fromkeys(columns, 1)
    for value, header, number_format, what in AMOUNTS:
        style = workbook.add_format({"num_format": number_format}) if number_format else None
        row, column = rows[header], columns[header]
        sheet.write_string(row, 0, f"post {row}")
        sheet.write_number(row, column, value, style)
        rows[header] += 1
        labels.append(Label(name, "negatief", "cel", "", "Begroting",
                            xlsxwriter.utility.xl_rowcol_to_cell(row, column), what=what))
    for text, header, what in AMOUNT_TEXTS:
        row, column = rows[header], columns[header]
        sheet.write_string(row, column, text)
        rows[header] += 1
        labels.append(Label(name, "negatief", "cel", "", "Begroting",
                            xlsxwriter.utility.xl_rowcol_to_cell(row, column), what=what))
    workbook.close()
    name = "nummers-die-geen-bsn-zijn.xlsx"
    workbook = _book(name)
    sheet = workbook.add_worksheet("Organisaties")
    date_format = workbook.add_format({"num_format": "d-m-yyyy"})
    for column, (value, header, what) in enumerate(OTHER):
        sheet.write_string(0, column, header)
        if isinstance(value, date):
            sheet.write_datetime(1, column, datetime(value.year, value.month, value.day),
                                 date_format)
        elif isinstance(value, str):
            sheet.write_string(1, column, value)
        else:
            sheet.write_number(1, column, value)
        labels.append(Label(name, "negatief", "cel", "", "Organisaties",
                            xlsxwriter.utility.xl_rowcol_to_cell(1, column), what=what))
    workbook.close()
    return labels


# -- conversions ------------------------------------------------------------------------------

CONVERTED = ("bsn-in-cellen", "bsn-in-notities", "bsn-in-bladnamen", "bsn-in-kop-en-voettekst",
             "bsn-in-documenteigenschappen", "bsn-in-namen", "bsn-in-gegevensvalidatie",
             "bedragen", "nummers-die-geen-bsn-zijn")


def _converted(labels: list[Label]) -> list[Label]:
    """The .ods and .xls of some files, by LibreOffice; a positive is kept where its text is
    still in the file."""
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from xlmonitor.libreoffice import convert

    result = []
    for stem in CONVERTED:
        for ext, fmt in (("ods", "ods"), ("xls", 'xls:MS Excel 97')):
            target = convert(CORPUS / f"{stem}.xlsx", fmt, CORPUS, recalc=False)
            text = _all_text(target)
            for label in labels:
                if Path(label.file).stem != stem:
                    continue
                if label.polarity == "positief" and label.place != "cel" and \
                        label.text not in text:
                    continue
                copy = Label(**{**asdict(label), "file": target.name})
                if ext == "xls" and label.place not in ("cel", "bladnaam") or \
                        ext == "ods" and label.place in ("kop-voettekst", "validatie"):
                    copy.sheet, copy.cell = "", ""  # where these are, the file cannot tell
                result.append(copy)
    return result


def _all_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return "\x00".join((data.decode("latin-1"), data.decode("utf-16-le", "replace"),
                        data[1:].decode("utf-16-le", "replace")))


def write_corpus() -> list[Label]:
    CORPUS.mkdir(parents=True, exist_ok=True)
    for old in CORPUS.glob("*.*"):
        if old.suffix in (".xlsx", ".ods", ".xls"):
            old.unlink()
    take = _Bsns()
    labels = [label for make in (_cells, _notes, _sheet_names, _names, _headers, _properties,
                                 _validation, _shapes) for label in make(take)]
    labels += _negatives()
    labels += _converted(labels)
    with LABELS.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        columns = [f.name for f in fields(Label) if f.name != "text"]
        writer.writerow(columns)
        for label in labels:
            writer.writerow([getattr(label, c) for c in columns])
    return labels


def read_labels() -> list[Label]:
    with LABELS.open(encoding="utf-8", newline="") as handle:
        return [Label(**row) for row in csv.DictReader(handle)]


if __name__ == "__main__":
    written = write_corpus()
    print(f"{len(written)} labels, {sum(1 for _ in CORPUS.glob('*.xls*'))} + "
          f"{sum(1 for _ in CORPUS.glob('*.ods'))} files in {CORPUS}")
    biggest = max(CORPUS.iterdir(), key=lambda p: p.stat().st_size)
    print(f"largest: {biggest.name} {biggest.stat().st_size} bytes")
