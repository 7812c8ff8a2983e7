"""The VBA project of the master workbook (``xl/vbaProject.bin`` of ``master.xlsm``).

It is the project of xlwings' *standalone* quickstart workbook, as the installed xlwings ships
it (``quickstart_standalone.xlsm``, the file ``xlwings quickstart --standalone`` copies), so the
``xlwings`` module's VBA matches the xlwings version Python will run; with

* the quickstart's sample module ``Module1`` taken out (its ``SampleCall`` imports a Python
  module named after the workbook, which the master does not have);
* one document module per sheet of the master (``ThisWorkbook``, ``Sheet1`` … ``SheetN``: the
  code names XlsxWriter writes), each with the header of the quickstart's own ``Sheet1``;
* xlwings' modules for ``RunServerPython`` (the button's server branch, for PCs without
  Python), as ``xlwings quickstart --server`` imports them from the installed package's
  ``addin/``: ``Remote`` and VBA-Web's ``WebHelpers``, ``WebClient``, ``WebRequest``,
  ``WebResponse`` and ``IWebAuthenticator`` (:func:`remote_sources`);
* the modules of ``macros/*.bas`` added as standard modules.

Writing the OLE compound file (dir stream record per module, compressed module streams,
``PROJECT`` and ``PROJECTwm``) is done by pyOpenVBA, a maintained pure-Python MS-OVBA writer.
Two things are corrected after it, in the ``PROJECT`` text stream ([MS-OVBA] 2.3.1):

* a module added with ``kind=other`` is declared ``Class=``; a sheet's module must be
  ``Document=SheetN/&H00000000`` (the dir stream has the same MODULETYPE 0x22 for both, so
  ``PROJECT`` is where Excel tells them apart);
* new ``[Workspace]`` lines are appended after the blank line that ends the quickstart's
  section; the section is written back without blank lines inside it.

The ``_VBA_PROJECT`` stream keeps only its 7-byte header (no performance cache), so Excel
compiles the modules from their source on first open. The same inputs give the same bytes.

The scheduled ``xlmonitor consolidate … -o master.xlsm`` does not need xlwings or pyOpenVBA:
it reuses the project inside the shipped ``workbooks/master.xlsm`` (:func:`packaged_vba_project`).
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from xlmonitor.errors import XlmonitorError

__all__ = [
    "QUICKSTART",
    "REMOTE_MODULES",
    "build_vba_project",
    "document_names",
    "macro_sources",
    "packaged_vba_project",
    "quickstart_workbook",
    "remote_sources",
]

QUICKSTART = "quickstart_standalone.xlsm"
VBA_ENTRY = "xl/vbaProject.bin"
SAMPLE_MODULE = "Module1"
WORKBOOK_MODULE = "ThisWorkbook"
_VB_NAME = re.compile(r'^Attribute VB_Name = "([^"]+)"', re.MULTILINE)
#: xlwings' VBA for RunServerPython, in the order ``xlwings.cli.import_remote_modules``
#: imports them (files of the installed package's ``addin/`` folder).
REMOTE_MODULES = ("Remote.bas", "IWebAuthenticator.cls", "WebClient.cls", "WebRequest.cls",
                  "WebResponse.cls", "WebHelpers.bas")
#: What the VBE adds to a class module it imports: its base (the class type library) and two
#: attributes after ``VB_Exposed`` (as in the quickstart's own ``Dictionary``).
_CLASS_BASE = 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'
_CLASS_TAIL = ("Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False")


class VbaProjectError(XlmonitorError):
    """The VBA project cannot be built or found (missing tool, quickstart or workbook)."""


# -- inputs -------------------------------------------------------------------------------

def quickstart_workbook() -> Path:
    """The standalone quickstart workbook of the installed xlwings."""
    try:
        import xlwings
    except ImportError as exc:  # pragma: no cover - xlwings is a test dependency
        raise VbaProjectError("xlwings is niet geïnstalleerd: pip install 'xlmonitor[excel]'.") \
            from exc
    path = Path(xlwings.__file__).parent / QUICKSTART
    if not path.is_file():
        raise VbaProjectError(f"{QUICKSTART} ontbreekt in xlwings {xlwings.__version__} "
                              f"({path.parent}).")
    return path


def macro_sources(folder: str | Path | None = None) -> dict[str, str]:
    """Module name → source (CRLF line ends) of every ``.bas`` in ``folder`` (default: the
    package's ``macros/``), sorted by file name. The name is the file's ``Attribute VB_Name``."""
    if folder is None:
        files = [f for f in resources.files("xlmonitor.macros").iterdir()
                 if f.name.lower().endswith(".bas")]
    else:
        files = list(Path(folder).glob("*.bas"))
    modules: dict[str, str] = {}
    for file in sorted(files, key=lambda f: f.name):
        text = file.read_bytes().decode("cp1252")
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        found = _VB_NAME.match(text)
        if not found:
            raise VbaProjectError(f"{file.name}: de eerste regel moet "
                                  'Attribute VB_Name = "..." zijn.')
        modules[found.group(1)] = text
    return modules


def remote_sources(addin: str | Path | None = None) -> dict[str, tuple[str, bool]]:
    """Module name → (source as the VBA project stores it, is a class module) of
    :data:`REMOTE_MODULES` in ``addin`` (default: the installed xlwings' ``addin/``)."""
    if addin is None:
        addin = quickstart_workbook().parent / "addin"
    modules: dict[str, tuple[str, bool]] = {}
    for file_name in REMOTE_MODULES:
        path = Path(addin) / file_name
        try:
            text = path.read_bytes().decode("cp1252")
        except OSError as exc:
            raise VbaProjectError(f"{file_name} ontbreekt in xlwings ({path.parent}).") from exc
        is_class = file_name.endswith(".cls")
        text = text.replace("\r\n", "\n")
        if is_class:
            text = class_module_source(text)
        found = _VB_NAME.match(text)
        if not found:
            raise VbaProjectError(f"{file_name}: geen Attribute VB_Name op de eerste regel.")
        modules[found.group(1)] = (text.replace("\n", "\r\n"), is_class)
    return modules


def class_module_source(exported: str) -> str:
    """A ``.cls`` file as the VBE exports it → the source a class module stores: without the
    ``VERSION``/``BEGIN … END`` header, with ``VB_Base`` after ``VB_Name`` and the two
    attributes the VBE adds after ``VB_Exposed`` (lines end in \\n here)."""
    lines = exported.split("\n")
    if lines and lines[0].startswith("VERSION "):
        end = lines.index("END")
        lines = lines[end + 1:]
    out: list[str] = []
    for line in lines:
        out.append(line)
        if line.startswith("Attribute VB_Name = "):
            out.append(_CLASS_BASE)
        elif line.startswith("Attribute VB_Exposed = "):
            out.extend(_CLASS_TAIL)
    return "\n".join(out)


def document_names(workbook: str | Path | bytes) -> list[str]:
    """Code names of a workbook package, in the order of its sheets: the workbook's
    (``workbookPr/@codeName``) first, then each worksheet's (``sheetPr/@codeName``)."""
    data = workbook if isinstance(workbook, bytes) else Path(workbook).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        book = package.read("xl/workbook.xml").decode("utf-8")
        rels = package.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        targets = dict(re.findall(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"',
                                  rels))
        targets.update({rid: target for target, rid in re.findall(
            r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
        found = re.search(r'<workbookPr\b[^>]*?codeName="([^"]+)"', book)
        names = [found.group(1) if found else WORKBOOK_MODULE]
        for rid in re.findall(r'<sheet\b[^>]*?r:id="([^"]+)"', book):
            target = targets[rid].lstrip("/")
            part = target if target.startswith("xl/") else f"xl/{target}"
            sheet = package.read(part).decode("utf-8")
            code = re.search(r'<sheetPr\b[^>]*?codeName="([^"]+)"', sheet)
            names.append(code.group(1) if code else "")
    return names


# -- the project ------------------------------------------------------------------------------

def build_vba_project(documents: Sequence[str], *, macros: Mapping[str, str] | None = None,
                      quickstart: str | Path | None = None) -> bytes:
    """``vbaProject.bin`` for a workbook whose code names are ``documents`` (workbook first,
    as :func:`document_names` returns them), with ``macros`` (default :func:`macro_sources`)."""
    try:
        from pyopenvba import ExcelFile, VBAModuleKind
        from pyopenvba.cfb import CFB
    except ImportError as exc:
        raise VbaProjectError("Voor het bouwen van het VBA-project is pyOpenVBA nodig: "
                              "pip install pyopenvba") from exc
    if not documents or documents[0] != WORKBOOK_MODULE:
        raise VbaProjectError(f"De werkmap moet de codenaam {WORKBOOK_MODULE} hebben, niet "
                              f"{documents[:1]}.")
    macros = dict(macro_sources() if macros is None else macros)
    quickstart = Path(quickstart) if quickstart else quickstart_workbook()
    with tempfile.TemporaryDirectory(prefix="xlmonitor-vba-") as tmp:
        source, target = Path(tmp) / "quickstart.xlsm", Path(tmp) / "project.xlsm"
        shutil.copyfile(quickstart, source)
        with ExcelFile(source) as book:
            project = book.vba_project()
            names = {name.casefold(): name for name in project.module_names()}
            sheet_header = project.get_module("Sheet1").source
            wanted = {name.casefold() for name in documents}
            for key, name in names.items():
                is_document = key == WORKBOOK_MODULE.casefold() or re.fullmatch(r"sheet\d+", key)
                if key == SAMPLE_MODULE.casefold() or (is_document and key not in wanted):
                    project.delete_module(name)
            added = []
            for name in documents[1:]:
                if name.casefold() not in names:
                    project.add_module(name, sheet_header.replace('"Sheet1"', f'"{name}"', 1),
                                       kind=VBAModuleKind.other)
                    added.append(name)
            for name, (text, is_class) in remote_sources(quickstart.parent / "addin").items():
                if name.casefold() in names:
                    raise VbaProjectError(f"De module {name} bestaat al in het xlwings-project.")
                project.add_module(name, text, kind=VBAModuleKind.other if is_class
                                   else VBAModuleKind.standard)
                names[name.casefold()] = name
            for name, text in macros.items():
                if name.casefold() in names and name.casefold() != SAMPLE_MODULE.casefold():
                    raise VbaProjectError(f"De module {name} bestaat al in het "
                                          "xlwings-project; kies een andere naam.")
                project.add_module(name, text, kind=VBAModuleKind.standard)
            book.save(target)
        with zipfile.ZipFile(target) as package:
            cfb = CFB.from_bytes(package.read(VBA_ENTRY))
    project_text = cfb.get_stream("PROJECT").decode("cp1252")
    cfb.write_stream("PROJECT", _fixed_project_stream(project_text, added).encode("cp1252"))
    return cfb.to_bytes()


def _fixed_project_stream(text: str, documents: Sequence[str]) -> str:
    """Declare ``documents`` as document modules and close the gaps in ``[Workspace]``."""
    lines = text.split("\r\n")
    while lines and lines[-1] == "":
        lines.pop()
    out: list[str] = []
    section = ""
    for line in lines:
        if line.startswith("[") and line.endswith("]"):
            section = line
        name = line.partition("=")[2]
        if line.startswith("Class=") and name in documents:
            line = f"Document={name}/&H00000000"
        if section == "[Workspace]" and line == "":
            continue
        out.append(line)
    # Ends with an empty line, as Excel writes it (and the quickstart's PROJECT does).
    return "\r\n".join(out) + "\r\n\r\n"


def packaged_vba_project() -> bytes:
    """The project inside the shipped ``workbooks/master.xlsm`` (a build output)."""
    workbook = resources.files("xlmonitor.workbooks") / "master.xlsm"
    try:
        with zipfile.ZipFile(io.BytesIO(workbook.read_bytes())) as package:
            return package.read(VBA_ENTRY)
    except (FileNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise VbaProjectError("De meegeleverde master.xlsm (met de knop Consolideer) ontbreekt "
                              "of heeft geen VBA-project; bouw hem met 'xlmonitor "
                              "build-workbooks'.") from exc
