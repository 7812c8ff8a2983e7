"""Regenerate the issue-20 regression files in tests/data (real-world spreadsheets that
tripped a user). Run from the repository root with the project's venv:

    .venv/bin/python tests/data/make_real_world_cases.py

Every file is derived from ``Huizen_monitor_2021.xlsx`` (a municipality's own layout, in this
folder) and named after its problem:

* ``resaved-as-xlsx.xls`` / ``resaved-as-xlsx.xlsx``: one submission saved as .xls and again
  as .xlsx; their feedback copies must not overwrite each other. The .xls is LibreOffice's.
* ``password-rc4-libreoffice.xls`` and ``password-libreoffice.ods``: saved by LibreOffice with
  the password ``geheim`` (RC4 for BIFF8; AES-256 with an ``encryption-data`` manifest for
  ODF). Needs pyuno (Debian: ``apt-get install python3-uno``), run with /usr/bin/python3.
* ``password-xor.xls`` and ``password-rc4-cryptoapi.xls``: LibreOffice's plain .xls,
  encrypted here with XOR obfuscation and RC4 CryptoAPI (128-bit) as MS-XLS/MS-OFFCRYPTO
  describe: a FilePass record after BOF, record bodies encrypted, BOF/FilePass/InterfaceHdr
  headers and BoundSheet8.lbPlyPos in the clear. msoffcrypto-tool decrypts them with
  ``geheim`` (tests/test_real_world.py checks that), so they are what Excel would write.
* ``raw-biff-stream-without-ole.xls``: the Workbook stream of that .xls without its OLE
  container (what Excel 2.x-4.0 saved, and what some converters leave behind).
* ``only-error-values.xlsx``: a sheet whose only cells are formulas whose cached results are
  errors (#VALUE!, #DIV/0!, #REF!); ``.xls`` and ``.ods``: the same, saved by LibreOffice.
* ``damaged-xls-panics-calamine.xls`` is not made here: it is ``resaved-as-xlsx.xls`` with
  three bytes changed (offsets 2482, 3049, 6395; found by mutating bytes at random), on which
  calamine 0.37 panics ("range start index 52672 out of range for slice of length 3542").
* ``external-link-url-encoded.xlsx``: an external link whose target is URL-encoded and
  XML-escaped (``Cijfers%20Q3%20&amp;%20Q4.xlsx``), as Excel writes it.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "Huizen_monitor_2021.xlsx"
PASSWORD = "geheim"

# BIFF record numbers (MS-XLS 2.3)
BOF, EOF, FILEPASS, BOUNDSHEET = 0x0809, 0x000A, 0x002F, 0x0085
CLEAR = {BOF, FILEPASS, 0x0194, 0x0195, 0x00E1, 0x0196, 0x0138}  # never encrypted (2.2.10)


def records(stream: bytes) -> list[tuple[int, bytes]]:
    result, at = [], 0
    while at + 4 <= len(stream):
        number, size = struct.unpack_from("<HH", stream, at)
        result.append((number, stream[at + 4:at + 4 + size]))
        at += 4 + size
    return result


def with_filepass(stream: bytes, body: bytes) -> bytes:
    """The BIFF8 stream with a FilePass record right after the first BOF; every
    BoundSheet8.lbPlyPos (the absolute offset of a sheet's BOF) moved along."""
    found = records(stream)
    extra = 4 + len(body)
    out = io.BytesIO()
    for index, (number, data) in enumerate(found):
        if number == BOUNDSHEET:
            data = struct.pack("<I", struct.unpack_from("<I", data)[0] + extra) + data[4:]
        out.write(struct.pack("<HH", number, len(data)) + data)
        if index == 0:
            out.write(struct.pack("<HH", FILEPASS, len(body)) + body)
    return out.getvalue()


def encrypted(stream: bytes, keystream_xor) -> bytes:
    """Each record body passed through ``keystream_xor(position, plain)`` (RC4: its
    keystream at that stream position), except what MS-XLS keeps in the clear."""
    out, at = bytearray(), 0
    for number, data in records(stream):
        out += struct.pack("<HH", number, len(data))
        start = at + 4
        if number in CLEAR:
            out += data
        elif number == BOUNDSHEET:
            out += data[:4] + keystream_xor(start + 4, data[4:], number)
        else:
            out += keystream_xor(start, data, number)
        at = start + len(data)
    return bytes(out)


def rc4_cryptoapi(plain: bytes) -> bytes:
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    from cryptography.hazmat.primitives.ciphers import Cipher
    from msoffcrypto.method.rc4_cryptoapi import DocumentRC4CryptoAPI, _makekey

    salt, verifier, key_bits = bytes(range(16)), bytes(range(100, 116)), 128
    rc4 = Cipher(ARC4(_makekey(PASSWORD, salt, key_bits, 0)), mode=None).encryptor()
    sealed = rc4.update(verifier) + rc4.update(hashlib.sha1(verifier).digest())
    csp = "Microsoft Enhanced Cryptographic Provider v1.0\0".encode("utf-16-le")
    header = struct.pack("<8I", 0x04, 0, 0x6801, 0x8004, key_bits, 1, 0, 0) + csp
    body = (struct.pack("<HHHI", 1, 4, 2, 0x04) + struct.pack("<I", len(header)) + header
            + struct.pack("<I", 16) + salt + sealed[:16] + struct.pack("<I", 20) + sealed[16:])
    stream = with_filepass(plain, body)
    # RC4 CryptoAPI encrypts the whole stream as one keystream, re-keyed every 1024 bytes.
    keystream = DocumentRC4CryptoAPI.decrypt(PASSWORD, salt, key_bits, io.BytesIO(
        bytes(len(stream))), blocksize=1024).read()

    def xor(position: int, data: bytes, _number: int) -> bytes:
        return bytes(b ^ k for b, k in zip(data, keystream[position:position + len(data)],
                                           strict=True))

    return encrypted(stream, xor)


def xor_obfuscated(plain: bytes) -> bytes:
    from msoffcrypto.method.xor_obfuscation import DocumentXOR

    key = DocumentXOR.create_xor_key_method1(PASSWORD)
    check = next(v for v in range(65536) if DocumentXOR.verifypw(PASSWORD, v))
    stream = with_filepass(plain, struct.pack("<HHH", 0, key, check))
    array = DocumentXOR.create_xor_array_method1(PASSWORD)

    def xor(position: int, data: bytes, number: int) -> bytes:
        # Method 1 (MS-OFFCRYPTO 2.3.7.4): rotate left 5 bits, then XOR with the array,
        # indexed from the end of the data (msoffcrypto's DecryptData_Method1 inverted).
        index = (position + len(data) + (4 if number == BOUNDSHEET else 0)) % 16
        out = bytearray()
        for byte in data:
            out.append((((byte << 5) | (byte >> 3)) & 0xFF) ^ array[index])
            index = (index + 1) % 16
        return bytes(out)

    return encrypted(stream, xor)


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (version 3, 512-byte sectors) holding ``streams``, each
    padded with empty records (four zero bytes each) to at least 4096 bytes so that none
    lives in the mini stream."""
    sector = 512
    data, chains, entries = b"", [], []
    for name, payload in streams.items():
        padding = max(0, 4096 - len(payload))
        payload = payload + bytes(padding + -padding % 4)
        count = -(-len(payload) // sector)
        chains.append((name, len(data) // sector, count, len(payload)))
        data += payload.ljust(count * sector, b"\0")
    data_sectors = len(data) // sector
    fat_sectors = 1
    while (fat_sectors + 1 + data_sectors) > fat_sectors * 128:
        fat_sectors += 1
    directory_sector = fat_sectors
    first_data = fat_sectors + 1
    fat = [0xFFFFFFFD] * fat_sectors + [0xFFFFFFFE]
    for _name, start, count, _size in chains:
        fat += [first_data + start + i + 1 for i in range(count - 1)] + [0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (fat_sectors * 128 - len(fat))

    def entry(name: str, kind: int, child: int, start: int, size: int, right: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", 0xFFFFFFFF, right, child) + bytes(16 + 4 + 16)
                + struct.pack("<IIi", start, size, 0))

    entries.append(entry("Root Entry", 5, 1, 0xFFFFFFFE, 0, 0xFFFFFFFF))
    for index, (name, start, _count, size) in enumerate(chains):
        right = index + 2 if index + 1 < len(chains) else 0xFFFFFFFF
        entries.append(entry(name, 2, 0xFFFFFFFF, first_data + start, size, right))
    directory = b"".join(entries).ljust(sector, b"\0")
    difat = list(range(fat_sectors)) + [0xFFFFFFFF] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, fat_sectors, directory_sector, 0, 4096,
                            0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
              + struct.pack("<109I", *difat))
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + data


def libreoffice_with_password(source: Path, targets: list[Path]) -> None:
    """Save ``source`` with :data:`PASSWORD` through LibreOffice's UNO API (the command line
    cannot set a password)."""
    script = HERE / "_save_with_password.py"
    script.write_text(_UNO_SCRIPT, encoding="utf-8")
    try:
        subprocess.run(["/usr/bin/python3", str(script), str(source), PASSWORD,
                        *map(str, targets)], check=True, timeout=300)
    finally:
        script.unlink()


_UNO_SCRIPT = r'''
import os, subprocess, sys, tempfile, time
import uno
from com.sun.star.beans import PropertyValue

def prop(name, value):
    p = PropertyValue(); p.Name, p.Value = name, value; return p

source, password, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
profile = tempfile.mkdtemp()
pipe = f"xlmonitor-{os.getpid()}"
office = subprocess.Popen(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                           "--invisible", "--norestore", "--nologo",
                           f"--accept=pipe,name={pipe};urp;"])
context = uno.getComponentContext()
resolver = context.ServiceManager.createInstanceWithContext(
    "com.sun.star.bridge.UnoUrlResolver", context)
for _ in range(120):
    try:
        remote = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        break
    except Exception:
        time.sleep(0.5)
desktop = remote.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", remote)
document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(source)),
                                        "_blank", 0, (prop("Hidden", True),))
filters = {"ods": "calc8", "xls": "MS Excel 97"}
for target in targets:
    document.storeToURL(uno.systemPathToFileUrl(os.path.abspath(target)),
                        (prop("FilterName", filters[target.rsplit(".", 1)[1]]),
                         prop("Password", password)))
document.close(True)
try:
    desktop.terminate()
except Exception:
    pass
office.wait(60)
'''


def only_error_values(target: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(target)
    workbook.set_properties({"created": None})
    sheet = workbook.add_worksheet("Invoer")
    sheet.write_formula("A1", '=1+"a"', None, "#VALUE!")
    sheet.write_formula("B3", "=1/0", None, "#DIV/0!")
    sheet.write_formula("C5", "=#REF!+1", None, "#REF!")
    workbook.close()


def external_link(target: Path) -> None:
    members = {
        "xl/externalLinks/externalLink1.xml": (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="'
            b'http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schem'
            b'as.openxmlformats.org/officeDocument/2006/relationships"><externalBook r:id="rId1"'
            b'><sheetNames><sheetName val="Blad1"/></sheetNames></externalBook></externalLink>'),
        "xl/externalLinks/_rels/externalLink1.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="ht'
            b'tp://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1'
            b'" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/exter'
            b'nalLinkPath" Target="file:///C:\\Users\\Medewerker\\Documents\\Cijfers%20Q3%20&amp;'
            b'%20Q4%20(def).xlsx" TargetMode="External"/></Relationships>'),
    }
    with zipfile.ZipFile(SOURCE) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            out.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)
        for name, data in members.items():
            out.writestr(zipfile.ZipInfo(name, (2021, 10, 2, 9, 0, 0)), data,
                         zipfile.ZIP_DEFLATED)


def main() -> None:
    import olefile

    sys.path.insert(0, str(HERE.parent.parent))
    from xlmonitor.libreoffice import convert

    with tempfile.TemporaryDirectory() as scratch:
        plain_xls = convert(SOURCE, "xls", Path(scratch))
        shutil.copyfile(plain_xls, HERE / "resaved-as-xlsx.xls")
        shutil.copyfile(SOURCE, HERE / "resaved-as-xlsx.xlsx")
        with olefile.OleFileIO(str(plain_xls)) as ole:
            stream = ole.openstream("Workbook").read()
    stream = b"".join(struct.pack("<HH", n, len(d)) + d for n, d in records(stream))
    (HERE / "raw-biff-stream-without-ole.xls").write_bytes(stream)
    (HERE / "password-xor.xls").write_bytes(compound_file({"Workbook": xor_obfuscated(stream)}))
    (HERE / "password-rc4-cryptoapi.xls").write_bytes(
        compound_file({"Workbook": rc4_cryptoapi(stream)}))
    only_error_values(HERE / "only-error-values.xlsx")
    with tempfile.TemporaryDirectory() as scratch:
        for fmt in ("xls", "ods"):
            shutil.copyfile(convert(HERE / "only-error-values.xlsx", fmt, Path(scratch)),
                            HERE / f"only-error-values.{fmt}")
    external_link(HERE / "external-link-url-encoded.xlsx")
    if "--no-libreoffice-password" not in sys.argv:
        libreoffice_with_password(SOURCE, [HERE / "password-rc4-libreoffice.xls",
                                           HERE / "password-libreoffice.ods"])


if __name__ == "__main__":
    main()
