"""Fuzzing intake and validation (issue 7): a mutated submission gives rows or findings, and
never any other exception.

Three mutators, each over real submissions (the standard template, the Hilversum, Huizen and
Gooise Meren layouts, and LibreOffice .xls/.ods copies):

* bytes of the file itself (zip or OLE headers, compressed data);
* the XML of a part (sheet, shared strings, workbook), re-zipped with correct checksums so
  the parser, not the zip check, meets the damage;
* cell values in the sheet XML: huge, negative, fractional numbers, dates, BSNs, formulas,
  any Unicode text (emoji, right-to-left, control characters), very long text.

CI runs ``XLMONITOR_FUZZ_EXAMPLES`` examples per mutator (default 60, derandomized so CI is
repeatable); a longer, random run by hand::

    XLMONITOR_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py -q
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest
from hostile import standard_submission
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlmonitor.findings import Finding, catalogue
from xlmonitor.intake.read import read_submission
from xlmonitor.programme.definition import load_programme
from xlmonitor.validation.checks import validate_submission

EXAMPLES = int(os.environ.get("XLMONITOR_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize="XLMONITOR_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DATA = Path(__file__).parent / "data"
EXAMPLES_FILES = ["Hilversum Q3 2021 rapportage WaW.xlsx", "Huizen_monitor_2021.xlsx",
                  "GM export WaW 2021.xlsx"]

TOKENS = [b"<c r=\"XFD1048576\"><v>1</v></c>", b"</row>", b"<row r=\"0\">", b"<v>1e308</v>",
          b"<v>-0</v>", b"<v>NaN</v>", b"&amp;", b"&#0;", b"&#xD800;", b"<f>SUM(A1:A9)</f>",
          b" t=\"s\"", b" t=\"e\"", b" t=\"d\"", b" t=\"inlineStr\"", b" r=\"A0\"",
          b" r=\"ZZZZ9\"", b"<v>4294967296</v>", b"<is><t>x</t></is>",
          b"<mergeCell ref=\"A1:G30\"/>", b"<![CDATA[=1+1]]>", b"\x00", b"\xff\xfe",
          "é😀".encode(), b"<sheet name=\"x\"/>"]
VALUES = st.one_of(
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["111222333", "1234.56.782", "12,5", "1e5", "-0", "2021-07-01",
                     "=SUM(A1)", "+31 6 12345678", "j@x.nl", "", " ", "Totaal", "Q3 2021"]),
    st.text(max_size=60),
    st.builds(lambda text, times: text * times, st.text(min_size=1, max_size=12),
              st.integers(2_000, 4_000)),  # up to 48,000 characters
)


@pytest.fixture(scope="module")
def programme():
    return load_programme()


class Bases(dict):
    """Submissions to mutate, by file name (a short repr for Hypothesis' reports)."""

    def __repr__(self) -> str:
        return f"Bases({sorted(self)})"


@pytest.fixture(scope="module")
def bases(tmp_path_factory, programme, soffice) -> Bases:
    from xlmonitor.libreoffice import convert

    folder = tmp_path_factory.mktemp("fuzz-basis")
    standard = standard_submission(programme, folder / "Monitor_Blaricum_2021-Q3.xlsx", folder)
    result = Bases((path.name, path.read_bytes())
                   for path in [standard, *(DATA / name for name in EXAMPLES_FILES)])
    for fmt in ("xls", "ods"):
        result[f"Hilversum.{fmt}"] = convert(DATA / EXAMPLES_FILES[0], fmt, folder).read_bytes()
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check(data: bytes, name: str, folder: Path, programme) -> None:
    """Intake + validate of ``data`` as file ``name``: rows or findings, nothing raised."""
    path = folder / name
    path.write_bytes(data)
    submission = read_submission(path, programme)
    validation = validate_submission(submission, programme)
    assert isinstance(validation.rows, pd.DataFrame)
    assert all(isinstance(f, Finding) and f.code in catalogue() and f.message
               for f in validation.findings)
    assert not validation.rows.empty or validation.findings


def rezip(data: bytes, change) -> bytes:
    """``data`` (a zip) with each part passed through ``change(name, bytes) -> bytes``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, change(info.filename, old.read(info)))
    return out.getvalue()


def xml_parts(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sorted(n for n in archive.namelist() if n.endswith(".xml"))


@FUZZ
@given(data=st.data())
def test_mutated_bytes(bases, workdir, programme, data):
    name = data.draw(st.sampled_from(sorted(bases)), label="file")
    content = bytearray(bases[name])
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans(), label="truncate"):
        content = content[: data.draw(st.integers(0, len(content)))]
    check(bytes(content), name, workdir, programme)


@FUZZ
@given(data=st.data())
def test_mutated_xml(bases, workdir, programme, data):
    name = data.draw(st.sampled_from(sorted(n for n in bases if not n.endswith(".xls"))),
                     label="file")
    member = data.draw(st.sampled_from(xml_parts(bases[name])), label="part")

    def change(part: str, xml: bytes) -> bytes:
        if part != member:
            return xml
        xml = bytearray(xml)
        for _ in range(data.draw(st.integers(1, 4), label="edits")):
            at = data.draw(st.integers(0, len(xml)))
            kind = data.draw(st.sampled_from(["insert", "delete", "repeat", "flip"]))
            if kind == "insert":
                xml[at:at] = data.draw(st.sampled_from(TOKENS) | st.binary(max_size=20))
            elif kind == "delete":
                del xml[at:at + data.draw(st.integers(1, 200))]
            elif kind == "repeat":
                xml[at:at] = xml[at:at + data.draw(st.integers(1, 400))] * \
                    data.draw(st.integers(2, 50))
            elif xml:
                xml[min(at, len(xml) - 1)] = data.draw(st.integers(0, 255))
        return bytes(xml)

    check(rezip(bases[name], change), name, workdir, programme)


# A value between tags (<v>, <t>, ODS <text:p>) or in an ODS value attribute.
_CELL_VALUE = re.compile(rb"(<(?:(?:\w+:)?[vt]|text:p)(?:\s[^>]*)?>)([^<]*)"
                         rb"(</(?:(?:\w+:)?[vt]|text:p)>)"
                         rb'|( office:(?:date-)?value=")([^"]*)(")')


@FUZZ
@given(data=st.data())
def test_mutated_cell_values(bases, workdir, programme, data):
    name = data.draw(st.sampled_from(sorted(n for n in bases
                                            if n.endswith((".xlsx", ".ods")))), label="file")

    def change(part: str, xml: bytes) -> bytes:
        if not re.search(r"(sheet\d*|sharedStrings|content)\.xml$", part):
            return xml
        matches = list(_CELL_VALUE.finditer(xml))
        if not matches:
            return xml
        chosen = set(data.draw(st.lists(st.integers(0, len(matches) - 1), min_size=1,
                                        max_size=6), label=f"cells of {part}"))
        pieces, last = [], 0
        for index, match in enumerate(matches):
            if index in chosen:
                value = data.draw(VALUES, label="value")
                group = 2 if match.group(2) is not None else 5
                pieces += [xml[last:match.start(group)],
                           escape(value, {'"': "&quot;"}).encode("utf-8", "replace")]
                last = match.end(group)
        return b"".join(pieces) + xml[last:]

    check(rezip(bases[name], change), name, workdir, programme)


# -- regressions found by fuzzing ------------------------------------------------------------

def test_infinite_count_is_not_a_whole_number(tmp_path, programme):
    """Found by test_mutated_cell_values: an .ods cell holding "inf" reached validate as
    float('inf') and crashed the cast of the clean rows to whole numbers."""
    from hostile import replace_in_member, sheet_member

    base = standard_submission(programme, tmp_path / "basis.xlsx", tmp_path)
    path = replace_in_member(base, tmp_path / "oneindig.xlsx", sheet_member(base, "Invoer"),
                             lambda xml: xml.replace("<v>4</v>", "<v>inf</v>", 1))
    validation = validate_submission(read_submission(path, programme), programme)
    assert [f.key() for f in validation.findings] == [("Invoer", "C8", "geen-geheel-getal")]
