"""The hostile corpus: bad, broken and odd submissions, generated (issue 7).

:func:`write_corpus` writes one file per problem into a folder and returns ``{name: path}``;
:data:`EXPECTED` says which finding codes intake + validate give each file. Nothing here is
a committed binary: zip bombs are assembled from deflate blocks (a 2 GiB part costs 2 MB and
half a second), the .xls and .ods are converted by LibreOffice from generated workbooks.

Every file that *can* be read is a Blaricum 2021-Q3 standard template filled in on
:data:`FILLED_ON`, before the demo's own Blaricum 2021-Q3 file: where such a file is valid
apart from warnings, the demo's newer file supersedes it, so a consolidation of the corpus
plus the demo inbox has exactly the demo's data.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import openpyxl

from xlmonitor.programme.definition import Programme
from xlmonitor.template.standard import build_template

MUNICIPALITY, PERIOD = "Blaricum", "2021-Q3"
FILLED_ON = date(2021, 10, 2)          # the demo's Blaricum 2021-Q3 is filled in on 18-10-2021
COUNTS = (4, 3, 2, 1)                  # per project: obeys every rule of the programme
BOMB_BYTES = 2 * 2**30                 # what a zip bomb's sheet inflates to
BSN_NUMBER, BSN_TEXT = 111222333, "1234.56.782"  # both pass the eleven-test

#: Finding codes (as a set) that read_submission + validate_submission give each file.
EXPECTED: dict[str, set[str]] = {
    "leeg.xlsx": {"bestand-leeg"},
    "lege-werkmap.xlsx": {"bestand-leeg"},
    "tekst-als-werkmap.xlsx": {"bestand-onleesbaar"},
    "afgekapt.xlsx": {"bestand-onleesbaar"},
    "beschadigd.xlsx": {"bestand-onleesbaar"},
    "met-wachtwoord.xlsx": {"bestand-versleuteld"},
    "zipbom.xlsx": {"limiet-overschreden"},
    "zipbom-liegt.xlsx": {"bestand-onleesbaar"},
    "entiteitenbom.xlsx": {"bestand-onleesbaar"},
    "dimensie-XFD1048576.xlsx": {"limiet-overschreden"},
    "100000-rijen.xlsx": {"limiet-overschreden"},
    "formules-zonder-waarde.xlsx": {"formule-zonder-waarde", "waarde-ontbreekt"},
    "externe-koppeling.xlsx": {"externe-koppeling"},
    "met-macro.xlsm": {"macro-aanwezig"},
    "oud-formaat.xls": {"negatief-getal"},
    "opendocument.ods": {"geen-geheel-getal"},
    "cijfers.csv": {"bestand-onleesbaar"},   # consolidate skips it: bestand-geen-spreadsheet
    "verborgen-blad-en-rij.xlsx": {"persoonsgegevens"},
    "samengevoegde-invoercellen.xlsx": {"cellen-samengevoegd", "waarde-ontbreekt"},
    "datum-als-aantal.xlsx": {"geen-geheel-getal"},
    "duizendtallen-als-tekst.xlsx": {"onwaarschijnlijk-hoog", "tekst-als-getal"},
    "emoji-en-rtl.xlsx": {"project-onbekend"},
    "40000-tekens.xlsx": {"limiet-overschreden"},
    "persoonsgegevens.xlsx": {"persoonsgegevens"},
}

MARKER = "LANGE-TEKST"
LONG_TEXT = ("Lorem ipsum dolor sit amet. " * 1429)[:40_000]

#: Remarks of the emoji file (rows 8 and 9): emoji, right-to-left text and bidi controls.
EMOJI_REMARK = "👍🏽 loopt goed 🎉"
RTL_REMARK = "\u202eevitcaretni\u202c العمل جيد — עבודה טובה"


# -- building blocks -----------------------------------------------------------------------

def _template_bytes(programme: Programme, scratch: Path) -> bytes:
    path = scratch / "sjabloon.xlsx"
    if not path.exists():
        build_template(programme, MUNICIPALITY, PERIOD, path)
    return path.read_bytes()


def standard_submission(programme: Programme, path: Path, scratch: Path,
                        edit: Callable[[openpyxl.Workbook, object], None] | None = None,
                        filled_on: date = FILLED_ON) -> Path:
    """The Blaricum 2021-Q3 template filled in with :data:`COUNTS`, then ``edit(workbook,
    sheet)``; its file time is ``filled_on`` too."""
    workbook = openpyxl.load_workbook(io.BytesIO(_template_bytes(programme, scratch)))
    sheet = workbook["Invoer"]
    sheet["B5"] = datetime(filled_on.year, filled_on.month, filled_on.day)
    for row in range(8, sheet.max_row + 1):
        if sheet.cell(row, 1).value in programme.projects.index:
            for offset, count in enumerate(COUNTS):
                sheet.cell(row, 3 + offset).value = count
    if edit is not None:
        edit(workbook, sheet)
    workbook.save(path)
    set_time(path, filled_on)
    return path


def set_time(path: Path, day: date) -> None:
    stamp = datetime(day.year, day.month, day.day, 9, 0).timestamp()
    os.utime(path, (stamp, stamp))


@dataclass
class Part:
    """One zip member as stored: ``payload`` already compressed with ``method``."""

    name: str
    payload: bytes
    crc: int
    size: int            # the uncompressed size the headers declare
    method: int = zipfile.ZIP_DEFLATED

    @classmethod
    def deflated(cls, name: str, data: bytes) -> Part:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        return cls(name, compressor.compress(data) + compressor.flush(), zlib.crc32(data),
                   len(data))


def write_zip(path: Path, parts: list[Part]) -> Path:
    """A zip written by hand, so headers may declare what the data is not."""
    out = io.BytesIO()
    central = []
    for part in parts:
        name = part.name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, part.method, 0, 0x21,
                              part.crc, len(part.payload), part.size, len(name), 0))
        out.write(name + part.payload)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, part.method,
                                   0, 0x21, part.crc, len(part.payload), part.size, len(name),
                                   0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    out.write(b"".join(central))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts),
                          out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())
    return path


def parts_of(path: Path) -> list[Part]:
    with zipfile.ZipFile(path) as archive:
        return [Part.deflated(info.filename, archive.read(info)) for info in archive.infolist()]


def sheet_member(path: Path, sheet: str) -> str:
    """The zip member of a sheet, through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as archive:
        book = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(\w+)"', book).group(1)
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"|'
                       rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    target = target.group(1) or target.group(2)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


@cache
def bomb_stream(prefix: bytes, suffix: bytes, size: int = BOMB_BYTES) -> tuple[bytes, int, int]:
    """(raw deflate stream, crc, length) of ``prefix + b"A" * n + suffix``, ``size`` bytes
    in all, without compressing gigabytes: after a full flush, deflating the same 1 MiB of
    the same byte again gives the same bytes, so that block is repeated."""
    block = b"A" * 2**20
    count = -(-(size - len(prefix) - len(suffix)) // len(block))  # at least ``size``
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    steady = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH) == steady
    tail = compressor.compress(suffix) + compressor.flush()
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    stream = head + first + steady * (count - 1) + tail
    return stream, crc, len(prefix) + len(block) * count + len(suffix)


def zip_bomb(base: Path, target: Path, *, declared: int | None = None) -> Path:
    """``base`` with its input sheet replaced by 2 GiB of XML; ``declared`` is the size the
    headers claim (default: the truth)."""
    member = sheet_member(base, "Invoer")
    stream, crc, size = bomb_stream(
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlforma'
        b'ts.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>',
        b"</t></is></c></row></sheetData></worksheet>")
    parts = [Part(p.name, stream, crc, size if declared is None else declared)
             if p.name == member else p for p in parts_of(base)]
    return write_zip(target, parts)


def billion_laughs(levels: int = 9) -> str:
    """A DTD whose entity ``&lol9;`` expands to 10**9 times "lol" (3 GB)."""
    entities = ['<!ENTITY lol "lol">']
    previous = "lol"
    for level in range(1, levels + 1):
        entities.append(f'<!ENTITY lol{level} "{f"&{previous};" * 10}">')
        previous = f"lol{level}"
    return f"<!DOCTYPE lolz [{''.join(entities)}]>"


def with_dtd(base: Path, target: Path, member: str) -> Path:
    """``base`` with a billion-laughs DTD in ``member`` (and the entity used in it)."""
    parts = []
    for part in parts_of(base):
        if part.name == member:
            text = zlib.decompress(part.payload, -15).decode()
            declaration = re.match(r"<\?xml[^>]*\?>", text)
            at = declaration.end() if declaration else 0
            text = text[:at] + billion_laughs() + text[at:]
            text = re.sub(r"<t>([^<]*)</t>", r"<t>&lol9;\1</t>", text, count=1) \
                if "<t>" in text else text
            part = Part.deflated(member, text.encode())
        parts.append(part)
    return write_zip(target, parts)


def junk_rows(path: Path, rows: int = 100_000) -> Path:
    """A minimal workbook of one sheet with ``rows`` rows of junk, written as XML."""
    lines = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>rommel {r}</t></is></c>'
        f'<c r="B{r}"><v>{r * 7 % 1000}</v></c><c r="C{r}" t="inlineStr"><is><t>x{r:x}</t>'
        f'</is></c><c r="D{r}"><v>{r / 3:.4f}</v></c></row>' for r in range(1, rows + 1))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    files = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="applicatio'
            'n/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Content'
            'Type="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="applic'
            'ation/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
            'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}"><Relation'
            f'ship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        "xl/workbook.xml":
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}"><Relation'
            f'ship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        "xl/worksheets/sheet1.xml":
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><dimension ref='
            f'"A1:D{rows}"/><sheetData>{lines}</sheetData></worksheet>',
    }
    return write_zip(path, [Part.deflated(name, text.encode()) for name, text in files.items()])


def replace_in_member(base: Path, target: Path, member: str,
                      change: Callable[[str], str]) -> Path:
    parts = [Part.deflated(p.name, change(zlib.decompress(p.payload, -15).decode()).encode())
             if p.name == member else p for p in parts_of(base)]
    return write_zip(target, parts)


def add_members(base: Path, target: Path, members: dict[str, bytes]) -> Path:
    return write_zip(target, parts_of(base) + [Part.deflated(n, d) for n, d in members.items()])


# -- the corpus ------------------------------------------------------------------------------

def write_corpus(programme: Programme, folder: Path,
                 convert: Callable[[Path, str, Path], Path]) -> dict[str, Path]:
    """Write every file of :data:`EXPECTED` into ``folder``. ``convert(source, fmt, outdir)``
    is :func:`xlmonitor.libreoffice.convert` (for the .xls and .ods)."""
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder.parent / f".{folder.name}-werk"
    scratch.mkdir(exist_ok=True)
    out: dict[str, Path] = {}

    def standard(name: str, edit=None) -> Path:
        out[name] = standard_submission(programme, folder / name, scratch, edit)
        return out[name]

    def derived(name: str, make: Callable[[Path, Path], Path], edit=None) -> Path:
        base = standard_submission(programme, scratch / f"basis-{name}.xlsx", scratch, edit)
        out[name] = make(base, folder / name)
        set_time(out[name], FILLED_ON)
        return out[name]

    # empty, not a workbook, damaged, encrypted
    (folder / "leeg.xlsx").write_bytes(b"")
    openpyxl.Workbook().save(folder / "lege-werkmap.xlsx")
    (folder / "tekst-als-werkmap.xlsx").write_text(
        "Gemeente;Project;Aanmeldingen\nBlaricum;Hout;3\n", "utf-8")
    (folder / "cijfers.csv").write_text("Gemeente;Project;Aanmeldingen\nBlaricum;Hout;3\n",
                                        "utf-8")
    for name in ("leeg.xlsx", "lege-werkmap.xlsx", "tekst-als-werkmap.xlsx", "cijfers.csv"):
        out[name] = folder / name
    derived("afgekapt.xlsx", lambda base, target: _write(target, base.read_bytes()[
        : base.stat().st_size // 2]))
    derived("beschadigd.xlsx", _corrupt)
    derived("met-wachtwoord.xlsx", _encrypt)

    # bombs and limits
    derived("zipbom.xlsx", zip_bomb)
    derived("zipbom-liegt.xlsx", lambda base, target: zip_bomb(base, target, declared=40_000))
    derived("entiteitenbom.xlsx",
            lambda base, target: with_dtd(base, target, sheet_member(base, "Invoer")))
    derived("dimensie-XFD1048576.xlsx", lambda base, target: replace_in_member(
        base, target, sheet_member(base, "Invoer"),
        lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', xml)))
    out["100000-rijen.xlsx"] = junk_rows(folder / "100000-rijen.xlsx")
    # openpyxl cuts text at Excel's 32,767 characters: the long text goes into the XML itself
    derived("40000-tekens.xlsx", lambda base, target: replace_in_member(
        base, target, sheet_member(base, "Invoer"), lambda xml: xml.replace(MARKER, LONG_TEXT)),
        edit=lambda wb, ws: ws.cell(8, 7, MARKER))

    # readable, with warnings: superseded by the demo's newer file
    standard("formules-zonder-waarde.xlsx", _formulas)
    derived("externe-koppeling.xlsx", lambda base, target: add_members(base, target, {
        "xl/externalLinks/_rels/externalLink1.xml.rels": (
            b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
            b'formats.org/officeDocument/2006/relationships/externalLinkPath" Target="file:///'
            b'C:/Users/jjansen/Documents/bron.xlsx" TargetMode="External"/></Relationships>'
        )}))
    derived("met-macro.xlsm", lambda base, target: add_members(base, target, {
        "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Sub Auto_Open()\r\n"
        b"  Shell \"cmd /c del C:\\*.*\"\r\nEnd Sub\r\n" + bytes(512)}))

    # other formats
    for name, edit in (("oud-formaat.xls", lambda wb, ws: ws.cell(10, 4, -2)),
                       ("opendocument.ods", lambda wb, ws: ws.cell(9, 3, "12,5"))):
        source = standard_submission(programme, scratch / f"{Path(name).stem}.xlsx", scratch,
                                     edit)
        converted = convert(source, Path(name).suffix[1:], scratch)
        out[name] = Path(shutil.move(converted, folder / name))
        set_time(out[name], FILLED_ON)

    # odd content
    standard("verborgen-blad-en-rij.xlsx", _hidden)
    standard("samengevoegde-invoercellen.xlsx", lambda wb, ws: ws.merge_cells("C8:F8"))
    standard("datum-als-aantal.xlsx", lambda wb, ws: ws.cell(9, 3, datetime(2021, 7, 1)))
    standard("duizendtallen-als-tekst.xlsx", _thousands_as_text)
    standard("emoji-en-rtl.xlsx", _emoji)
    standard("persoonsgegevens.xlsx", _personal)
    shutil.rmtree(scratch)
    assert set(out) == set(EXPECTED), set(EXPECTED) ^ set(out)
    return out


def _thousands_as_text(workbook, sheet) -> None:
    """Counts typed in cells formatted as text, with Dutch thousands separators: "12.000"
    was once read as 12."""
    for cell, text in (("C9", "12.000"), ("D9", "1.200")):
        sheet[cell] = text
        sheet[cell].number_format = "@"


def _write(target: Path, data: bytes) -> Path:
    target.write_bytes(data)
    return target


def _corrupt(base: Path, target: Path) -> Path:
    """Flip 32 bytes in the middle of the input sheet's compressed data."""
    data = bytearray(base.read_bytes())
    with zipfile.ZipFile(base) as archive:
        info = archive.getinfo(sheet_member(base, "Invoer"))
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    middle = info.header_offset + 30 + name_length + extra_length + info.compress_size // 2
    data[middle:middle + 32] = bytes(b ^ 0x5A for b in data[middle:middle + 32])
    return _write(target, bytes(data))


def _encrypt(base: Path, target: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(base, "rb") as plain, open(target, "wb") as encrypted:
        OOXMLFile(plain).encrypt("geheim", encrypted)
    return target


def _formulas(workbook, sheet) -> None:
    # openpyxl stores formulas without a cached result, as a script would
    for column in "CDEF":
        sheet[f"{column}8"] = "=1+1"


def _hidden(workbook, sheet) -> None:
    sheet.row_dimensions[9].hidden = True          # a project row, with figures: still read
    old = workbook.create_sheet("Oud")
    old.sheet_state = "hidden"
    old["A1"], old["B1"] = "Cliënt", "J. Jansen"
    old["A2"], old["B2"] = "BSN", BSN_NUMBER       # a number, as Excel stores a typed BSN
    old["A3"], old["B3"] = "Partner", f"bsn {BSN_TEXT}"


def _emoji(workbook, sheet) -> None:
    sheet.cell(10, 1, "🌲🌲")
    sheet.cell(10, 2, "🌲🌲 مشروع جديد")
    sheet.cell(8, 7, EMOJI_REMARK)
    sheet.cell(9, 7, RTL_REMARK)


def _personal(workbook, sheet) -> None:
    sheet.cell(8, 7, "Contact: j.jansen@blaricum.nl, 06-12345678")
    sheet.cell(9, 7, f"cliënt met BSN {BSN_TEXT}")
    sheet["J3"] = BSN_NUMBER
