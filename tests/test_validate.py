"""Validation of submitted rows: every finding code at its cell, as flat (sheet, cell, code)
lists. Submissions are built directly (intake has its own tests)."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from xlmonitor.intake.read import ROW_COLUMNS, Submission
from xlmonitor.programme.definition import INDICATOR_CODES, load_programme
from xlmonitor.validation.checks import locked_findings, validate_submission


@pytest.fixture(scope="module")
def programme():
    return load_programme()


def submission(rows: list[tuple], *, period="2021-Q3", totals=None, sheet="Invoer",
               municipality="Laren") -> Submission:
    """rows: (project text, code, aanm, gestart, scholing, werk[, toelichting]); row 8 on."""
    records = []
    for number, row in enumerate(rows, start=8):
        text, code, *values = row
        remark = values[4] if len(values) > 4 else None
        records.append({
            "gemeente": municipality, "periode": period, "projectcode": code,
            "project_tekst": text, **dict(zip(INDICATOR_CODES, values[:4], strict=True)),
            "toelichting": remark, "blad": sheet, "cel_project": f"B{number}",
            **{f"cel_{c}": f"{col}{number}"
               for c, col in zip(INDICATOR_CODES, "CDEF", strict=True)},
            "cel_toelichting": f"G{number}", "cel_periode": "B4",
        })
    sub = Submission(path=Path("Monitor_Laren_2021-Q3.xlsx"), sha256="x", layout="standaard",
                     sheet=sheet, municipality=municipality,
                     rows=pd.DataFrame(records, columns=ROW_COLUMNS))
    if totals is not None:
        number = 8 + len(rows)
        sub.totals = pd.DataFrame([{
            "gemeente": municipality, "periode": period, "projectcode": None,
            "project_tekst": "Totaal", **dict(zip(INDICATOR_CODES, totals, strict=True)),
            "blad": sheet, "cel_project": f"B{number}",
            **{f"cel_{c}": f"{col}{number}"
               for c, col in zip(INDICATOR_CODES, "CDEF", strict=True)},
        }], columns=ROW_COLUMNS)
    return sub


def keys(validation):
    return sorted(f.key() for f in validation.findings)


def test_clean_submission_has_no_findings(programme):
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", 10, 5, 1, 1),
        ("Hout", "HOUT", "4", " 3 ", 0, 0),  # numbers typed as text are fine
    ]), programme)
    assert keys(result) == []
    assert result.rows[list(INDICATOR_CODES)].values.tolist() == [[10, 5, 1, 1], [4, 3, 0, 0]]
    assert result.rows["cellen"].tolist() == ["C8:F8", "C9:F9"]


def test_not_whole_negative_date_and_text(programme):
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", "12,5", 5, 1, 1),
        ("Hout", "HOUT", 4, -2, 0, 0),
        ("Waardetas", "WAARDETAS", 4, 3, date(2021, 3, 1), "veel"),
    ]), programme)
    assert keys(result) == [("Invoer", "C8", "geen-geheel-getal"),
                            ("Invoer", "D9", "negatief-getal"),
                            ("Invoer", "E10", "geen-geheel-getal"),
                            ("Invoer", "F10", "geen-geheel-getal")]
    assert result.has_errors
    message = next(f.message for f in result.findings if f.cell == "C8")
    assert message == ("Cel C8 (blad Invoer): '12,5' is geen geheel getal; vul een aantal in "
                       "(0 of meer).")


TEXT_AS_NUMBER = ("staat als tekst in de cel en is gelezen als {}: de punt of spatie scheidt de "
                  "duizendtallen (1.200 = twaalfhonderd). Klopt dat niet, vul het aantal dan in "
                  "zonder punt of spatie.")


def test_text_with_dutch_thousands_separators_is_read_as_thousands_with_a_warning(programme):
    """"1.200" is Dutch for twelve hundred (it was read as 1.2, "not a whole number", while
    "12.000" became 12, silently). Text with plain digits stays silent, as before."""
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", "1.200", "2.500,00", "1 200", "1\u00a0200"),
        ("Hout", "HOUT", "4", " 3 ", "12,0", 0),
    ]), programme)
    assert keys(result) == [("Invoer", "C8", "tekst-als-getal"),
                            ("Invoer", "D8", "tekst-als-getal"),
                            ("Invoer", "E8", "tekst-als-getal"),
                            ("Invoer", "F8", "tekst-als-getal")]
    assert not result.has_errors
    assert {f.severity for f in result.findings} == {"waarschuwing"}
    assert result.rows[list(INDICATOR_CODES)].values.tolist() == [[1200, 2500, 1200, 1200],
                                                                   [4, 3, 12, 0]]
    message = next(f.message for f in result.findings if f.cell == "C8")
    assert message == "Cel C8 (blad Invoer): '1.200' " + TEXT_AS_NUMBER.format(1200)


def test_twelve_thousand_as_text_is_implausibly_high_as_typed(programme):
    """The bug: "12.000" was read as 12 and accepted. It is 12000, above the bound; the
    messages quote it as typed and say how it was read."""
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", "12.000", "1.234.567", "12.000,00", 1),
    ]), programme)
    assert keys(result) == [("Invoer", "C8", "onwaarschijnlijk-hoog"),
                            ("Invoer", "C8", "tekst-als-getal"),
                            ("Invoer", "D8", "onwaarschijnlijk-hoog"),
                            ("Invoer", "D8", "tekst-als-getal"),
                            ("Invoer", "E8", "onwaarschijnlijk-hoog"),
                            ("Invoer", "E8", "tekst-als-getal")]
    messages = [f.message for f in result.findings if f.cell == "C8"]
    assert sorted(messages) == [
        "Cel C8 (blad Invoer): '12.000' " + TEXT_AS_NUMBER.format(12000),
        "Cel C8 (blad Invoer): 12.000 is onwaarschijnlijk hoog voor één kwartaal (meer dan "
        "10.000); controleer het getal. Vul het aantal van dit kwartaal voor dit project in, "
        "geen totaal of bedrag. Klopt het toch, neem dan contact op met het regionale team."]


def test_comma_before_three_digits_is_ambiguous_not_guessed(programme):
    """"12,000" is 12 to a Dutch reader and 12000 to an English one: an error, not a guess
    that is a factor 1000 off. "12,5" stays "not a whole number"."""
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", "12,000", "1,234", "1,234,567", "12,000.00"),
        ("Hout", "HOUT", "12,5", "0,500", 1, 1),
    ]), programme)
    assert keys(result) == [("Invoer", "C8", "getal-dubbelzinnig"),
                            ("Invoer", "C9", "geen-geheel-getal"),
                            ("Invoer", "D8", "getal-dubbelzinnig"),
                            ("Invoer", "D9", "geen-geheel-getal"),
                            ("Invoer", "E8", "getal-dubbelzinnig"),
                            ("Invoer", "F8", "getal-dubbelzinnig")]
    assert result.has_errors
    message = next(f.message for f in result.findings if f.cell == "C8")
    assert message == (
        "Cel C8 (blad Invoer): '12,000' is niet eenduidig: in een Nederlands getal is de komma "
        "het decimaalteken, in een Engels getal scheidt de komma de duizendtallen ('12,000' is "
        "dus 12 of twaalfduizend). Vul het aantal in zonder komma of punt.")
    assert result.rows[list(INDICATOR_CODES)].values.tolist()[0] == [0, 0, 0, 0]


def test_negative_and_odd_number_texts(programme):
    """A grouped text that is negative or not whole gets its error only, quoted as typed; a
    separator used wrongly is not a number; the typographic minus is a minus."""
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", "-1.200", "1.200,5", "\u22123", "+1.200"),
        ("Hout", "HOUT", "1.20.000", "12\u00a05", "12.000,-", "0.500"),
    ]), programme)
    assert keys(result) == [("Invoer", "C8", "negatief-getal"),
                            ("Invoer", "C9", "geen-geheel-getal"),
                            ("Invoer", "D8", "geen-geheel-getal"),
                            ("Invoer", "D9", "geen-geheel-getal"),
                            ("Invoer", "E8", "negatief-getal"),
                            ("Invoer", "E9", "geen-geheel-getal"),
                            ("Invoer", "F8", "tekst-als-getal"),
                            ("Invoer", "F9", "geen-geheel-getal")]
    by_cell = {f.cell: f.message for f in result.findings}
    assert by_cell["C8"] == ("Cel C8 (blad Invoer): -1.200 is negatief; vul een aantal in "
                             "(0 of meer).")
    assert by_cell["D8"].startswith("Cel D8 (blad Invoer): '1.200,5' is geen geheel getal")


def test_numeric_cells_are_not_reinterpreted(programme):
    """Only text is read with separators: a real number 12.0 or 1.2 is what Excel shows."""
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", 12.0, 1.2, 1200, 12_000),
    ]), programme)
    assert keys(result) == [("Invoer", "D8", "geen-geheel-getal"),
                            ("Invoer", "F8", "onwaarschijnlijk-hoog")]


def test_implausibly_high_count_names_cell_value_and_bound(programme):
    assert programme.max_count == 10_000  # the seed programme's max_aantal_per_kwartaal
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", 10_000, 5, 1, 1),  # at the bound: plausible
        ("Hout", "HOUT", 4, 3, 10_001, 0),
        ("Waardetas", "WAARDETAS", 4, 3, 5_000_000, 0),
    ]), programme)
    assert keys(result) == [("Invoer", "E10", "onwaarschijnlijk-hoog"),
                            ("Invoer", "E9", "onwaarschijnlijk-hoog")]
    assert result.has_errors
    message = next(f.message for f in result.findings if f.cell == "E10")
    assert message.startswith("Cel E10 (blad Invoer): 5000000 is onwaarschijnlijk hoog voor "
                              "één kwartaal (meer dan 10.000); controleer het getal.")


def test_huge_and_infinite_counts_give_findings_and_count_as_blank(programme):
    """1e308 is a whole number to a float and used to wrap to -9223372036854775808 in the
    clean rows; infinity stays "not a whole number" only, not also implausible."""
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", 1e308, float("inf"), "9" * 400, -1e308),
        ("Hout", "HOUT", 2**53 + 2, 3, 2, 1),
    ]), programme)
    assert keys(result) == [("Invoer", "C8", "onwaarschijnlijk-hoog"),
                            ("Invoer", "C9", "onwaarschijnlijk-hoog"),
                            ("Invoer", "D8", "geen-geheel-getal"),
                            ("Invoer", "E8", "geen-geheel-getal"),
                            ("Invoer", "F8", "negatief-getal")]
    message = next(f.message for f in result.findings if f.cell == "C8")
    assert message.startswith("Cel C8 (blad Invoer): 1E+308 is onwaarschijnlijk hoog")
    assert result.rows[list(INDICATOR_CODES)].values.tolist() == [[0, 0, 0, 0], [0, 3, 2, 1]]


def test_plausibility_bound_is_the_programme_setting(programme):
    strict = dataclasses.replace(
        programme, settings={**programme.settings, "max_aantal_per_kwartaal": 50})
    result = validate_submission(submission([("ZorgStart", "ZORGSTART", 51, 50, 1, 1)]),
                                 strict)
    assert keys(result) == [("Invoer", "C8", "onwaarschijnlijk-hoog")]
    assert "(meer dan 50)" in result.findings[0].message


def test_blank_counts_as_zero_with_a_warning(programme):
    result = validate_submission(submission([("ZorgStart", "ZORGSTART", 10, None, 1, 1)]),
                                 programme)
    assert keys(result) == [("Invoer", "D8", "waarde-ontbreekt")]
    assert not result.has_errors
    assert result.rows.at[0, "gestarte_trajecten"] == 0


def test_duplicate_project_row(programme):
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", 10, 5, 1, 1),
        ("Zorgstart", "ZORGSTART", 1, 1, 0, 0),
    ]), programme)
    assert keys(result) == [("Invoer", "B9", "dubbele-rij")]
    assert "ook al in cel B8" in result.findings[0].message


def test_total_that_is_not_the_sum(programme):
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", 10, 5, 1, 1),
        ("Hout", "HOUT", 4, 3, 0, 0),
    ], totals=(14, 9, 1, 1)), programme)
    assert keys(result) == [("Invoer", "D10", "totaal-klopt-niet")]
    assert "het totaal 9 is niet de som van de rijen erboven (8)" in result.findings[0].message


def test_rule_werk_not_more_than_started(programme):
    result = validate_submission(submission([("ZorgStart", "ZORGSTART", 10, 2, 1, 5)]),
                                 programme, history=pd.DataFrame())
    assert keys(result) == [("Invoer", "F8", "regel-geschonden")]
    finding = result.findings[0]
    assert finding.severity == "waarschuwing"
    assert "meer inwoners bemiddeld naar werk dan trajecten gestart" in finding.message


def test_cumulative_rule_uses_history(programme):
    history = validate_submission(submission([("ZorgStart", "ZORGSTART", 10, 8, 0, 1)],
                                             period="2021-Q2"), programme).rows
    now = submission([("ZorgStart", "ZORGSTART", 0, 0, 0, 6)])
    assert keys(validate_submission(now, programme, history=history)) == []
    assert keys(validate_submission(now, programme, history=pd.DataFrame())) == [
        ("Invoer", "F8", "regel-geschonden")]
    # A file on its own cannot know its earlier quarters: cumulative rules wait for history.
    assert keys(validate_submission(now, programme)) == []


def test_missing_value_strategy_skips_blank(programme):
    result = validate_submission(submission([("ZorgStart", "ZORGSTART", 10, None, 1, 5)]),
                                 programme, history=pd.DataFrame())
    assert ("Invoer", "F8", "regel-geschonden") not in keys(result)


def test_project_not_running_in_period(programme):
    result = validate_submission(submission([("Energietransitie", "ENERGIE", 3, 1, 0, 0)]),
                                 programme)
    assert keys(result) == [("Invoer", "B8", "project-niet-actief")]


def test_period_outside_programme(programme):
    result = validate_submission(submission([("ZorgStart", "ZORGSTART", 1, 1, 0, 0)],
                                            period="2019-Q2"), programme)
    assert ("Invoer", "B4", "periode-buiten-programma") in keys(result)


def test_locked_period_only_after_lock_date(programme):
    late = submission([("GGZ", "GGZ", 1, 1, 0, 0)], period="2020-Q4")
    late.submitted_on = date(2021, 6, 15)
    assert [f.code for f in locked_findings(late, programme)] == ["periode-vergrendeld"]
    early = submission([("GGZ", "GGZ", 1, 1, 0, 0)], period="2020-Q4")
    early.submitted_on = date(2021, 1, 15)
    assert locked_findings(early, programme) == []


def test_unknown_project_rows_are_dropped_not_counted(programme):
    result = validate_submission(submission([
        ("ZorgStart", "ZORGSTART", 10, 5, 1, 1),
        ("Zorgstrat", None, 3, 1, 0, 0),
    ]), programme)
    assert len(result.rows) == 1


def test_cumulative_rules_in_a_merge_name_the_file_whose_quarter_breaks_them(programme):
    """consolidate judges cumulative rules once over every municipality's accepted rows; a
    finding names the file of the quarter where the sum breaks the rule, never an earlier
    one, and a blocking rule rejects that file only (its quarter then counts without it)."""
    from xlmonitor.consolidation.merge import merge

    def laren(period: str, placed: int, name: str, municipality: str = "Laren"):
        sub = submission([("ZorgStart", "ZORGSTART", 10, 4, 0, placed)], period=period,
                         municipality=municipality)
        sub = dataclasses.replace(sub, path=Path(name), sha256=name)
        return validate_submission(sub, programme)

    files = [laren("2021-Q2", 3, "laren-q2.xlsx"), laren("2021-Q3", 2, "laren-q3.xlsx"),
             laren("2021-Q3", 2, "huizen-q3.xlsx", municipality="Huizen")]
    # Laren: started 4 + 4 = 8, placed 3 + 2 = 5 (fine); Huizen on its own: 2 <= 4 (fine).
    assert [f for f in merge(files, programme).findings if f.code == "regel-geschonden"] == []
    files[1] = laren("2021-Q3", 6, "laren-q3.xlsx")  # placed 3 + 6 = 9 > started 8
    result = merge(files, programme)
    broken = [f for f in result.findings if f.code == "regel-geschonden"]
    assert [(Path(f.file).name, f.cell, f.severity) for f in broken] == [
        ("laren-q3.xlsx", "F8", "waarschuwing")]
    assert "9 bemiddeld_naar_werk" in broken[0].message

    strict = dataclasses.replace(programme, rules=programme.rules.assign(ernst="fout"))
    result = merge(files, strict)
    register = result.register.set_index("Bestand")["Status"]
    assert register.to_dict() == {"huizen-q3.xlsx": "ontvangen", "laren-q2.xlsx": "ontvangen",
                                  "laren-q3.xlsx": "afgekeurd"}
    assert set(result.data["Bestand"]) == {"huizen-q3.xlsx", "laren-q2.xlsx"}
