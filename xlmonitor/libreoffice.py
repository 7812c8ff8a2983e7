"""Headless LibreOffice: recalculate workbooks and export them to PDF/PNG.

Every call starts its own ``soffice`` with a private, throwaway user profile, so

* formulas are recalculated on load (the profile sets ``OOXMLRecalcMode`` and ``ODFRecalcMode``
  to 0, "always"; LibreOffice's default, 1, trusts the cached values in the file, and
  XlsxWriter caches ``0`` for every formula unless told otherwise);
* two conversions can run at the same time (a second ``soffice`` on the *same* profile hands
  its work to the first instance and may exit without doing anything);
* nothing the user configured in their own LibreOffice changes the result.

One file per ``soffice`` call: a batch call was seen to stop silently after 247 of 350 files,
so every output is checked to exist. The source is copied into a scratch directory first, so
LibreOffice never touches (or leaves lock files next to) the original, and results are moved
into place only when complete.

See ``docs/libreoffice.md`` for what was verified and on which version.
"""

from __future__ import annotations

import glob
import html
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from xlmonitor.atomic import replace_atomically
from xlmonitor.errors import LibreOfficeError

__all__ = [
    "RECALC_PROFILE_XCU",
    "convert",
    "find_pdftoppm",
    "find_soffice",
    "pdf_to_png",
    "recalculate",
    "to_pdf",
]

ENV_SOFFICE = "XLMONITOR_SOFFICE"

#: ``user/registrymodifications.xcu`` of the private profile. Schema: group
#: ``org.openoffice.Office.Calc/Formula/Load`` in ``share/registry/main.xcd`` (both props are
#: ``xs:int``: 0 always recalculate, 1 never (default), 2 ask; "ask" means "never" headless).
RECALC_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
XLSM_FILTER = "xlsm:Calc MS Excel 2007 VBA XML"
PDF_FILTER = "pdf:calc_pdf_Export"

_NOT_FOUND = (
    "LibreOffice is niet gevonden. Installeer LibreOffice of zet het pad in XLMONITOR_SOFFICE."
)


# --------------------------------------------------------------------------- locating tools


def _candidate_paths() -> list[str]:
    """Usual install locations, tried after ``PATH``."""
    candidates = [
        "/usr/bin/soffice",
        "/usr/lib/libreoffice/program/soffice",
        "/usr/local/bin/soffice",
        "/snap/bin/libreoffice",
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
        r"C:\Program Files\LibreOffice\program\soffice.exe",
        r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    ]
    # The Document Foundation's own .deb/.rpm packages install into /opt/libreofficeX.Y.
    candidates += sorted(glob.glob("/opt/libreoffice*/program/soffice"), reverse=True)
    return candidates


def find_soffice() -> str:
    """Path of the ``soffice`` executable.

    Order: environment variable ``XLMONITOR_SOFFICE``, ``soffice`` or ``libreoffice`` on
    ``PATH``, the usual install locations. Raises :class:`LibreOfficeError` when none exists.
    """
    configured = os.environ.get(ENV_SOFFICE, "").strip()
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        found = shutil.which(configured)
        if found:
            return found
        raise LibreOfficeError(
            f"LibreOffice is niet gevonden op het pad uit {ENV_SOFFICE} ({configured}). "
            "Controleer dat pad of installeer LibreOffice."
        )
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in _candidate_paths():
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise LibreOfficeError(_NOT_FOUND)


def find_pdftoppm() -> str:
    """Path of poppler's ``pdftoppm``; :class:`LibreOfficeError` when it is missing."""
    found = shutil.which("pdftoppm")
    if not found:
        raise LibreOfficeError(
            "pdftoppm is niet gevonden. Installeer poppler-utils (Linux) of Poppler, "
            "nodig om een PDF als afbeelding op te slaan."
        )
    return found


# --------------------------------------------------------------------------- running


@contextmanager
def _scratch_dir(prefix: str = "xlmonitor-lo-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _make_profile(root: Path, *, recalc: bool) -> str:
    """Create a private user installation under ``root``; returns its ``file://`` URL."""
    user = root / "user"
    user.mkdir(parents=True)
    if recalc:
        (user / "registrymodifications.xcu").write_text(RECALC_PROFILE_XCU, encoding="utf-8")
    return root.resolve().as_uri()


def _run(cmd: Sequence[str], *, timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in its own process group; kill the whole group on timeout."""
    # A new session (POSIX) / process group (Windows) so a timeout kills soffice.bin too,
    # not only the soffice launcher script.
    creationflags = 0
    if sys.platform == "win32":
        creationflags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    try:
        proc = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
            creationflags=creationflags,
        )
    except OSError as exc:
        raise LibreOfficeError(f"{what} is mislukt: programma kon niet starten ({exc}).") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        proc.communicate()
        raise LibreOfficeError(
            f"{what} duurde langer dan {timeout:g} seconden en is afgebroken."
        ) from None
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    if sys.platform == "win32":
        subprocess.run(  # noqa: S603, S607
            ["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, check=False
        )
        proc.kill()
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _tail(text: str, lines: int = 5) -> str:
    # "failed to launch javaldx" is printed on every start without Java; it is noise.
    kept = [ln for ln in text.strip().splitlines() if ln.strip() and "javaldx" not in ln]
    return " | ".join(kept[-lines:])


def convert(
    src: Path,
    fmt: str,
    outdir: Path,
    *,
    timeout: float = 180,
    recalc: bool = True,
) -> Path:
    """Convert one file with ``soffice --convert-to FMT``; returns ``outdir/<stem>.<ext>``.

    ``fmt`` is LibreOffice's ``EXT[:FILTER[:OPTIONS]]``, e.g. ``"pdf"`` or
    ``'pdf:calc_pdf_Export:{"PageRange":{"type":"string","value":"1"}}'``. With ``recalc``
    (default) every formula is recalculated on load. An existing output file is replaced
    only when the conversion succeeded. Raises :class:`LibreOfficeError` (Dutch, naming the
    file) when LibreOffice is missing, fails, produces nothing or exceeds ``timeout``.
    """
    src = Path(src)
    outdir = Path(outdir)
    ext = fmt.split(":", 1)[0].strip().lower()
    if not ext:
        raise ValueError(f"format without extension: {fmt!r}")
    if not src.is_file():
        raise LibreOfficeError(f"Bestand '{src}' bestaat niet; omzetten naar {ext} kan niet.")
    if src.stat().st_size == 0:
        # LibreOffice "converts" an empty file into an empty document without complaint.
        raise LibreOfficeError(f"Bestand '{src}' is leeg; omzetten naar {ext} kan niet.")
    soffice = find_soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{src.stem}.{ext}"
    what = f"Omzetten van '{src.name}' naar {ext} met LibreOffice"

    with _scratch_dir() as scratch:
        profile = _make_profile(scratch / "profile", recalc=recalc)
        indir = scratch / "in"
        workout = scratch / "out"
        indir.mkdir()
        workout.mkdir()
        # Work on a copy: the original (e.g. in the inbox) is never opened by LibreOffice.
        work_src = indir / src.name
        shutil.copyfile(src, work_src)
        cmd = [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--convert-to",
            fmt,
            "--outdir",
            str(workout),
            str(work_src),
        ]
        result = _run(cmd, timeout=timeout, what=what)
        produced = workout / f"{work_src.stem}.{ext}"
        if not produced.is_file() or produced.stat().st_size == 0:
            detail = _tail(result.stderr) or _tail(result.stdout) or f"exitcode {result.returncode}"
            raise LibreOfficeError(f"{what} is mislukt: er is geen uitvoer gemaakt ({detail}).")
        _move_into_place(produced, target)
    return target


def _move_into_place(produced: Path, target: Path) -> None:
    """Copy beside ``target`` then atomically replace it: never a half-written file."""
    replace_atomically(target, lambda tmp: shutil.copyfile(produced, tmp))


# --------------------------------------------------------------------------- public helpers


def recalculate(src: Path, dest: Path, *, timeout: float = 180) -> Path:
    """Write a copy of workbook ``src`` with every formula recalculated by LibreOffice.

    ``src`` may be .xlsx, .xlsm (or anything Calc opens). ``dest`` ending in ``.xlsm`` is
    written with the VBA-preserving filter, anything else as .xlsx. Returns ``dest``.
    """
    src, dest = Path(src), Path(dest)
    fmt = XLSM_FILTER if dest.suffix.lower() == ".xlsm" else XLSX_FILTER
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_dir("xlmonitor-recalc-") as scratch:
        produced = convert(src, fmt, scratch, timeout=timeout, recalc=True)
        _move_into_place(produced, dest)
    return dest


def to_pdf(
    src: Path,
    dest_pdf: Path,
    *,
    sheet: str | None = None,
    timeout: float = 180,
) -> Path:
    """Export workbook ``src`` (recalculated) to ``dest_pdf``; only ``sheet`` when given.

    A single sheet is selected by exporting a scratch copy in which every other sheet is
    hidden (``state="hidden"`` in ``xl/workbook.xml``); Calc leaves hidden sheets out of the
    PDF. The copy is edited at the zip/XML level, so charts, images, conditional formats and
    VBA survive (an openpyxl round trip would drop charts). Works for .xlsx/.xlsm only;
    other formats can be exported whole.

    Verified on LibreOffice 7.4.7 (tests/test_libreoffice.py): hidden sheets are not exported.
    JSON filter options such as ``{"PageRange":{"type":"string","value":"2"}}`` also work
    there, but select pages, not sheets, so they cannot pick a sheet spanning several pages.
    """
    src, dest_pdf = Path(src), Path(dest_pdf)
    if not src.is_file():
        raise LibreOfficeError(f"Bestand '{src}' bestaat niet; PDF maken kan niet.")
    dest_pdf.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_dir("xlmonitor-pdf-") as scratch:
        work = src
        if sheet is not None:
            work = scratch / "in" / src.name
            work.parent.mkdir()
            _copy_with_only_sheet_visible(src, work, sheet)
        produced = convert(work, PDF_FILTER, scratch / "out", timeout=timeout, recalc=True)
        _move_into_place(produced, dest_pdf)
    return dest_pdf


_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b[^>]*?/>")
_NAME_ATTR = re.compile(r'\bname="([^"]*)"')
_STATE_ATTR = re.compile(r'\s+state="[^"]*"')
_WORKBOOK_VIEW = re.compile(r"<(?:\w+:)?workbookView\b[^>]*>")
_VIEW_TAB_ATTRS = re.compile(r'\s+(?:activeTab|firstSheet)="[^"]*"')


def _copy_with_only_sheet_visible(src: Path, dest: Path, sheet: str) -> None:
    """Copy an OOXML workbook, hiding every sheet except ``sheet`` (made visible, active)."""
    try:
        with zipfile.ZipFile(src) as zin:
            workbook_xml = zin.read("xl/workbook.xml").decode("utf-8")
            tags = _SHEET_TAG.findall(workbook_xml)
            names = [
                html.unescape(m.group(1)) if (m := _NAME_ATTR.search(tag)) else "" for tag in tags
            ]
            if sheet not in names:
                raise LibreOfficeError(
                    f"Werkblad '{sheet}' bestaat niet in '{src.name}'. "
                    f"Aanwezige werkbladen: {', '.join(names)}."
                )
            index = names.index(sheet)

            positions = iter(range(len(tags)))

            def rewrite(match: re.Match[str]) -> str:
                tag = _STATE_ATTR.sub("", match.group(0))
                if next(positions) == index:
                    return tag
                return re.sub(r"\s*/>$", ' state="hidden"/>', tag)

            new_xml = _SHEET_TAG.sub(rewrite, workbook_xml)
            # LibreOffice prints a hidden sheet that has a print area: drop the other sheets'
            # print areas so only ``sheet`` reaches the PDF.
            new_xml = re.sub(
                r"<definedName\b[^>]*>[^<]*</definedName>",
                lambda m: "" if ('_xlnm.Print_Area' in m.group(0)
                                 and (sid := re.search(r'localSheetId="(\d+)"', m.group(0)))
                                 and int(sid.group(1)) != index) else m.group(0),
                new_xml,
            )
            # The active tab must be a visible sheet (Excel refuses a hidden active sheet).
            new_xml = _WORKBOOK_VIEW.sub(
                lambda m: re.sub(
                    r"\s*(/?>)$", rf' activeTab="{index}"\1', _VIEW_TAB_ATTRS.sub("", m.group(0))
                ),
                new_xml,
            )
            with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
                for item in zin.infolist():
                    if item.filename == "xl/workbook.xml":
                        zout.writestr(item, new_xml.encode("utf-8"))
                    else:
                        zout.writestr(item, zin.read(item))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        raise LibreOfficeError(
            f"Werkblad '{sheet}' los exporteren kan alleen uit een .xlsx- of .xlsm-bestand; "
            f"'{src.name}' is dat niet (of is beschadigd)."
        ) from exc


def pdf_to_png(
    pdf: Path,
    dest_png: Path,
    *,
    dpi: int = 110,
    first_page_only: bool = True,
    timeout: float = 120,
) -> Path:
    """Render ``pdf`` to PNG with poppler's ``pdftoppm``; returns ``dest_png`` (page 1).

    With ``first_page_only=False`` the other pages are written beside it as
    ``<stem>-2.png``, ``<stem>-3.png``, ...
    """
    pdf, dest_png = Path(pdf), Path(dest_png)
    if not pdf.is_file():
        raise LibreOfficeError(f"PDF '{pdf}' bestaat niet; afbeelding maken kan niet.")
    pdftoppm = find_pdftoppm()
    dest_png.parent.mkdir(parents=True, exist_ok=True)
    what = f"Afbeelding maken van '{pdf.name}'"
    with _scratch_dir("xlmonitor-png-") as scratch:
        prefix = scratch / "page"
        cmd = [pdftoppm, "-png", "-r", str(int(dpi))]
        if first_page_only:
            cmd += ["-f", "1", "-l", "1", "-singlefile"]
        cmd += [str(pdf), str(prefix)]
        result = _run(cmd, timeout=timeout, what=what)
        if first_page_only:
            pages = [scratch / "page.png"]
        else:
            # pdftoppm names pages page-1.png or page-01.png ... depending on the page count.
            pages = sorted(scratch.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if result.returncode != 0 or not pages or not pages[0].is_file():
            detail = _tail(result.stderr) or f"exitcode {result.returncode}"
            raise LibreOfficeError(f"{what} is mislukt ({detail}).")
        _move_into_place(pages[0], dest_png)
        for number, page in enumerate(pages[1:], start=2):
            _move_into_place(page, dest_png.with_name(f"{dest_png.stem}-{number}.png"))
    return dest_png


WRITER_PDF_FILTER = "pdf:writer_pdf_Export"


def document_to_pdf(src: Path, dest_pdf: Path, *, timeout: float = 180) -> Path:
    """Export a text document (``.docx``, ``.odt``) to ``dest_pdf`` with LibreOffice Writer;
    returns ``dest_pdf`` (replaced only when the export succeeded)."""
    src, dest_pdf = Path(src), Path(dest_pdf)
    dest_pdf.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_dir("xlmonitor-pdf-") as scratch:
        produced = convert(src, WRITER_PDF_FILTER, scratch / "out", timeout=timeout,
                           recalc=False)
        _move_into_place(produced, dest_pdf)
    return dest_pdf
