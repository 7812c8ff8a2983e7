"""The personal-data guard, measured on the labelled corpus of tests/data/privacy (issue 17;
written by tests/privacy_corpus.py): every BSN is found at its place as an error, and nothing
that only looks like one rejects a file."""

from __future__ import annotations

import json
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from privacy_corpus import CORPUS, Label, read_labels

from xlmonitor.feedback.marked_copy import write_feedback_copy
from xlmonitor.intake.read import read_submission
from xlmonitor.programme.definition import load_programme
from xlmonitor.validation.checks import validate_submission

PERSONAL = ("persoonsgegevens", "persoonsgegevens-elders", "persoonsgegevens-vraag")


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture(scope="module")
def findings(programme):
    """Each corpus file's personal-data findings, through intake and validation."""
    result = {}
    for path in sorted(CORPUS.glob("*.*")):
        if path.suffix in (".xlsx", ".ods", ".xls"):
            validation = validate_submission(read_submission(path, programme), programme)
            result[path.name] = [f for f in validation.findings if f.code in PERSONAL]
    return result


def _found(label: Label, found: list) -> bool:
    """A positive is found when an error with its masked value is at its place: the cell's
    value, or the other place at the labelled sheet and cell."""
    for f in found:
        if not f.is_error or f.params.get("value") != label.masked:
            continue
        if label.place == "cel":
            if f.code == "persoonsgegevens" and (f.sheet, f.cell) == (label.sheet, label.cell):
                return True
        elif f.code == "persoonsgegevens-elders" and (f.sheet, f.cell) == (label.sheet,
                                                                           label.cell):
            return True
    return False


def test_every_bsn_is_found_and_nothing_else_rejects_a_file(findings):
    labels = read_labels()
    assert {label.file for label in labels} == set(findings)
    recall: dict[str, Counter] = defaultdict(Counter)
    missed = []
    for label in (x for x in labels if x.polarity == "positief"):
        key = f"{Path(label.file).suffix[1:]:4} {label.place}"
        recall[key]["totaal"] += 1
        if _found(label, findings[label.file]):
            recall[key]["gevonden"] += 1
        else:
            missed.append((label.file, label.place, label.spelling, label.sheet, label.cell))
    negatives = [x for x in labels if x.polarity == "negatief"]
    rejected = [f for file in {x.file for x in negatives} for f in findings[file] if f.is_error]
    asked = {(x.file, x.sheet, x.cell) for x in negatives} & {
        (file, f.sheet, f.cell) for file in {x.file for x in negatives} for f in findings[file]
        if f.code == "persoonsgegevens-vraag"}
    spellings = Counter(x.spelling for x in labels if x.polarity == "positief")

    positives = sum(c["totaal"] for c in recall.values())
    hits = sum(c["gevonden"] for c in recall.values())
    print(f"\npositives: {hits}/{positives} found at their place as an error "
          f"(recall {100 * hits / positives:.1f} %); spellings {dict(sorted(spellings.items()))}")
    for key, counts in sorted(recall.items()):
        print(f"  {key:22} {counts['gevonden']:3}/{counts['totaal']}")
    print(f"negatives: {len(negatives)}, rejected {len(rejected)}, asked 'is dit een BSN?' "
          f"{len(asked)}")
    for label in sorted(negatives, key=lambda x: (x.file, x.cell)):
        if (label.file, label.sheet, label.cell) in asked:
            print(f"  asked: {label.file} {label.cell} {label.what}")
    assert not missed, missed
    assert not rejected, [(f.file, f.sheet, f.cell, f.message) for f in rejected]


def test_findings_never_show_a_bsn(findings):
    labels = [x for x in read_labels() if x.polarity == "positief"]
    shown = json.dumps([[f.as_dict(), f.params] for found in findings.values() for f in found])
    for raw in _raw_values():
        assert raw not in shown
    assert all(label.masked in shown for label in labels)


def _raw_values() -> set[str]:
    """Every BSN the generator wrote, in its spelling (from the xlsx parts' text)."""
    import re

    texts = []
    for path in CORPUS.glob("bsn-in-*.xlsx"):
        with zipfile.ZipFile(path) as archive:
            texts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    pattern = re.compile(r"(?<!\d)(?:\d{9}|\d{4}\.\d\d\.\d{3}|\d{3}([ -])\d{3}\1\d{3})(?!\d)")
    from xlmonitor.privacy import is_bsn

    return {m.group() for text in texts for m in pattern.finditer(text) if is_bsn(m.group())}


@pytest.mark.parametrize("name", ["bsn-in-notities.xlsx", "bsn-in-bladnamen.xlsx",
                                  "bsn-in-kop-en-voettekst.xlsx", "bsn-in-namen.xlsx",
                                  "bsn-in-gegevensvalidatie.xlsx", "bsn-in-cellen.xlsx",
                                  "bsn-in-documenteigenschappen.xlsx",
                                  "bsn-in-tekstvak-en-grafiek.xlsx",
                                  "bsn-alleen-in-een-attribuut.xlsx"])
def test_the_feedback_copy_never_repeats_a_bsn(name, findings, programme, tmp_path):
    source = CORPUS / name
    validation = validate_submission(read_submission(source, programme), programme)
    copy = write_feedback_copy(source, validation.findings, tmp_path)
    with zipfile.ZipFile(copy) as archive:
        text = "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    leaked = [raw for raw in _raw_values() if raw in text]
    assert not leaked
    assert "is in deze kopie onherkenbaar gemaakt" in text


def test_a_sheet_named_after_a_client_is_renamed_shown_and_listed(programme, tmp_path):
    import openpyxl

    source = CORPUS / "bsn-in-bladnamen.xlsx"
    validation = validate_submission(read_submission(source, programme), programme)
    workbook = openpyxl.load_workbook(write_feedback_copy(source, validation.findings, tmp_path))
    renamed = [ws for ws in workbook.worksheets if "xxxxx" in ws.title]
    assert len(renamed) == 4 and all(ws.sheet_state == "visible" for ws in renamed)
    control = workbook["Controle"]
    listed = {control.cell(row, 2).value: control.cell(row, 2).hyperlink.location
              for row in range(1, control.max_row + 1) if control.cell(row, 2).hyperlink}
    assert listed == {ws.title: f"'{ws.title}'!A1" for ws in renamed}


@pytest.mark.parametrize("name", ["bsn-in-notities.xlsx", "bsn-in-notities.ods",
                                  "bsn-in-documenteigenschappen.xlsx", "bsn-in-namen.ods"])
def test_a_part_too_large_to_parse_is_scanned_as_text(name, programme, monkeypatch):
    """A hostile 100 MB part is never parsed into a tree: its BSNs are still found, in the
    part (not at their place), and the cells' own BSNs are not reported twice."""
    from xlmonitor.intake import number_formats

    expected = {x.masked for x in read_labels() if x.file == name and x.place != "cel"}
    monkeypatch.setattr(number_formats, "MAX_PARSED_BYTES", 100)
    hits = read_submission(CORPUS / name, programme).personal_data
    assert {hit.masked for hit in hits if hit.place} >= expected
    assert not [hit for hit in hits if hit.place and hit.masked not in expected]
