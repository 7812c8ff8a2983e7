"""What a workbook's bytes say beside calamine: encryption of a .xls (BIFF in an OLE compound
file) or .ods, a BIFF stream without its container, and the error values cells hold (calamine
reads ``#VALUE!`` as an empty cell).

calamine cannot tell a password-protected .xls or .ods from a damaged one when it detects
the format itself (``from_filelike`` turns its ``PasswordError`` into "Cannot detect file
format"), so intake looks first:

* BIFF8 (.xls, Excel 97-2003): a ``FilePass`` record right after the workbook's first
  ``BOF`` (MS-XLS 2.4.117) means XOR obfuscation, RC4 or RC4 CryptoAPI encryption;
* ODF (.ods): a ``<manifest:encryption-data>`` element in ``META-INF/manifest.xml``.

Nothing here raises on a bad file: a file that cannot be inspected is left to calamine.
"""

from __future__ import annotations

import re
import struct

__all__ = ["DUTCH_ERRORS", "biff_encryption", "biff_error_values", "is_raw_biff",
           "odf_encrypted", "odf_error_values", "ooxml_error_values"]

_BOF_RECORDS = {0x0009: "BIFF2", 0x0209: "BIFF3", 0x0409: "BIFF4", 0x0809: "BIFF5/8"}
_BOF_KINDS = {0x0005, 0x0006, 0x0010, 0x0020, 0x0040, 0x0100}  # globals, VB, sheet, chart...
_FILEPASS, _EOF, _FORMULA, _BOOLERR = 0x002F, 0x000A, 0x0006, 0x0205
_MAX_HEAD_RECORDS = 64  # FilePass comes in the first few records of the globals substream
_MAX_SCANNED_RECORDS = 200_000  # a quarterly workbook has a few thousand; bounds the time
_ODF_ENCRYPTION = re.compile(rb"<(?:[\w.-]+:)?encryption-data\b")
_MAX_MANIFEST = 2**20

#: BIFF error codes (MS-XLS 2.5.10) as Excel shows them, and the names Dutch Excel uses.
_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!",
                0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
DUTCH_ERRORS = {"#NULL!": "#LEEG!", "#DIV/0!": "#DEEL/0!", "#VALUE!": "#WAARDE!",
                "#REF!": "#VERW!", "#NAME?": "#NAAM?", "#NUM!": "#GETAL!", "#N/A": "#N/B"}


def is_raw_biff(data: bytes) -> str | None:
    """The BIFF version if ``data`` starts with a BIFF ``BOF`` record but no OLE container:
    an Excel 2.x-4.0 worksheet, or a Workbook stream taken out of its .xls."""
    if len(data) < 8:
        return None
    record, length, _version, kind = struct.unpack_from("<HHHH", data)
    if record in _BOF_RECORDS and 4 <= length <= 20 and kind in _BOF_KINDS:
        return _BOF_RECORDS[record]
    return None


def _workbook_stream(data: bytes) -> bytes | None:
    try:
        import olefile

        with olefile.OleFileIO(data) as ole:
            for name in ("Workbook", "Book"):  # BIFF8, BIFF5
                if ole.exists(name):
                    return ole.openstream(name).read()
    except Exception:  # not a readable compound file: calamine will say so
        return None
    return None


def _records(stream: bytes, limit: int | None = None):
    at, count = 0, 0
    while at + 4 <= len(stream) and (limit is None or count < limit):
        number, size = struct.unpack_from("<HH", stream, at)
        yield number, stream[at + 4:at + 4 + size]
        at += 4 + size
        count += 1


def biff_encryption(data: bytes) -> str | None:
    """How an OLE .xls is encrypted ("XOR", "RC4", "RC4 CryptoAPI"), or None."""
    stream = _workbook_stream(data)
    if not stream or not is_raw_biff(stream):
        return None
    if stream[4:6] == b"\x00\x05":  # a BIFF5 BOF: its FilePass is XOR, without a type
        return "XOR (BIFF5)" if any(n == _FILEPASS for n, _ in _records(
            stream, _MAX_HEAD_RECORDS)) else None
    for number, body in _records(stream, _MAX_HEAD_RECORDS):
        if number == _FILEPASS:
            kind = struct.unpack_from("<H", body)[0] if len(body) >= 2 else -1
            if kind == 0:
                return "XOR"
            version = struct.unpack_from("<H", body, 2)[0] if len(body) >= 4 else 0
            return "RC4" if version == 1 else "RC4 CryptoAPI"
        if number == _EOF:
            break
    return None


def biff_error_values(data: bytes, limit: int = 5) -> list[str]:
    """Up to ``limit`` distinct error values (``#VALUE!``) the cells of an OLE .xls hold:
    cached formula results and error constants."""
    stream = _workbook_stream(data)
    found: list[str] = []
    for number, body in _records(stream or b"", _MAX_SCANNED_RECORDS):
        code = None
        # A FORMULA's cached result is an error when its 8 bytes are 02 ?? ?? ?? ?? ?? FF FF.
        if number == _FORMULA and len(body) >= 14 and body[6] == 2 and body[12:14] == b"\xff\xff":
            code = body[8]
        elif number == _BOOLERR and len(body) >= 8 and body[7] == 1:
            code = body[6]
        if code is not None and (text := _BIFF_ERRORS.get(code)) and text not in found:
            found.append(text)
            if len(found) >= limit:
                break
    return found


def odf_encrypted(manifest: bytes) -> bool:
    """Whether an ODF manifest says its parts are encrypted (saved with a password)."""
    return bool(_ODF_ENCRYPTION.search(manifest[:_MAX_MANIFEST]))


_OOXML_ERROR = re.compile(rb'<(?:\w+:)?c\b[^>]*?\bt="e"[^>]*>(?:(?!</(?:\w+:)?c>).)*?'
                          rb"<(?:\w+:)?v>([^<]{1,20})</", re.S)
_OOXML_REF = re.compile(rb'\br="([A-Z]{1,3}\d{1,7})"')
_ODF_ERROR = re.compile(rb'value-type="error"[^>]*>\s*<text:p>([^<]{1,20})</text:p>')


def ooxml_error_values(sheet_xml: bytes, limit: int = 5) -> list[tuple[str, str]]:
    """Up to ``limit`` (A1 cell, error value) pairs of an xlsx sheet's cells typed ``e``."""
    found = []
    for match in _OOXML_ERROR.finditer(sheet_xml):
        ref = _OOXML_REF.search(match.group(0))
        found.append((ref.group(1).decode() if ref else "", match.group(1).decode("ascii",
                                                                                  "replace")))
        if len(found) >= limit:
            break
    return found


def odf_error_values(content_xml: bytes, limit: int = 5) -> list[str]:
    """Up to ``limit`` distinct error values (as LibreOffice wrote them) of an .ods."""
    found: list[str] = []
    for match in _ODF_ERROR.finditer(content_xml):
        text = match.group(1).decode("utf-8", "replace").strip()
        if text and text not in found:
            found.append(text)
            if len(found) >= limit:
                break
    return found
