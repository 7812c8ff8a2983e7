"""The baseline: what a user would write without xlmonitor, in plain pandas.

``pandas.read_excel`` (openpyxl) per file, one small reader per layout, ``concat``, the same
checks as xlmonitor done row by row (municipality, period, project, blank and non-whole or
negative counts, duplicate rows, the programme's rules on cumulative sums, a Totaal row that
does not add up), the newest file per municipality × quarter, and ``to_excel`` of the long
table (the same 15 columns as xlmonitor's tblData, provenance included), the findings and a
per-municipality summary with openpyxl. No formulas, tables, styles or dashboard.

    python benchmarks/plain_pandas.py PROGRAMMA.xlsx INBOX OUT.xlsx
"""

from __future__ import annotations

import hashlib
import re
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd

COUNTS = ["Aanmeldingen", "Gestarte trajecten", "Afgeronde scholing", "Bemiddeld naar werk"]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def key(text) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(text).lower().replace("&", "en"))


def quarter(year, number) -> str:
    return f"{int(year)}-Q{int(number)}"


def period_from_text(text) -> str | None:
    text = str(text)
    year = re.search(r"(19|20)\d\d", text)
    number = re.search(r"(?<!\d)([1-4])(?:e|de)?\s*(?:kwartaal|kw)|Q([1-4])", text, re.I)
    if year and number:
        return quarter(year.group(0), number.group(1) or number.group(2))
    return None


def read_programme(path: Path) -> dict:
    sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    settings = dict(zip(sheets["Programma"]["instelling"], sheets["Programma"]["waarde"],
                        strict=True))
    projects = sheets["Projecten"]
    names = {}
    for row in projects.itertuples():
        for name in [row.code, row.naam, *str(row.aliassen or "").split(";")]:
            if str(name).strip() and str(name) != "nan":
                names.setdefault(key(name), row.code)
    return {"settings": settings, "projects": projects.set_index("code"), "names": names,
            "municipalities": dict(zip(sheets["Gemeenten"]["naam"], sheets["Gemeenten"]["cbs_code"],
                                       strict=True)),
            "rules": sheets["Regels"]}


# -- one reader per layout -------------------------------------------------------------------

def read_file(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, totals) with columns gemeente, periode, project, COUNTS, Toelichting, Blad, Rij,
    Kolommen."""
    sheet, raw = next(iter(pd.read_excel(path, sheet_name=None, header=None,
                                         engine="openpyxl").items()))
    if sheet == "Invoer":
        return _wide(raw, sheet, header=6, municipality=raw.iat[2, 1], period=raw.iat[3, 1],
                     first_count=2)
    if sheet.startswith("Rapportage"):
        municipality = str(raw.iat[0, 0]).replace("Gemeente", "").strip()
        return _wide(raw, sheet, header=5, municipality=municipality,
                     period=period_from_text(raw.iat[2, 0]), first_count=1)
    if sheet == "Export":
        return _long(raw, sheet)
    return _groups(raw, sheet)


def _wide(raw, sheet, *, header, municipality, period, first_count):
    body = raw.iloc[header + 1:, :first_count + 5].copy()
    body.columns = ["project", *COUNTS, "Toelichting"] if first_count == 1 else \
        ["code", "project", *COUNTS, "Toelichting"]
    body = body[body["project"].notna()]
    body["gemeente"], body["periode"], body["Blad"] = municipality, period, sheet
    body["Rij"] = body.index + 1
    body["Kolommen"] = f"{LETTERS[first_count]}:{LETTERS[first_count + 3]}"
    total = body["project"].astype(str).str.lower().str.startswith("totaal")
    return body[~total], body[total]


def _groups(raw, sheet):
    municipality = raw.iat[0, 2]
    parts = []
    for q in range(4):
        first = 2 + 4 * q
        body = raw.iloc[4:, [1, first, first + 1, first + 2, first + 3]].copy()
        body.columns = ["project", *COUNTS]
        if body[COUNTS].isna().all().all():
            continue
        body["Toelichting"] = None
        body["gemeente"], body["periode"], body["Blad"] = municipality, quarter(sheet, q + 1), sheet
        body["Rij"] = body.index + 1
        body["Kolommen"] = f"{LETTERS[first]}:{LETTERS[first + 3]}"
        parts.append(body[body["project"].notna()])
    rows = pd.concat(parts) if parts else pd.DataFrame()
    return rows, rows.iloc[0:0]


def _long(raw, sheet):
    table = raw.iloc[1:].copy()
    table.columns = list(raw.iloc[0])
    table["periode"] = [quarter(y, q) for y, q in zip(table["Jaar"], table["Kwartaal"],
                                                      strict=True)]
    table["Rij"] = table.index + 1
    words = {"aanmelding": COUNTS[0], "start traject": COUNTS[1], "scholing afgerond": COUNTS[2],
             "uitstroom werk": COUNTS[3]}
    table["Indicator"] = table["Indicator"].map(words)
    wide = table.pivot_table(index=["Gemeente", "periode", "Project"], columns="Indicator",
                             values="Aantal", aggfunc="first").reset_index()
    first_row = table.groupby(["Gemeente", "periode", "Project"])["Rij"].min().reset_index()
    wide = wide.merge(first_row, on=["Gemeente", "periode", "Project"])
    wide = wide.rename(columns={"Gemeente": "gemeente", "Project": "project"})
    wide["Toelichting"], wide["Blad"], wide["Kolommen"] = None, sheet, "F"
    return wide, wide.iloc[0:0]


# -- the checks, row by row ---------------------------------------------------------------------

def check(rows: pd.DataFrame, totals: pd.DataFrame, programme: dict,
          findings: list) -> pd.DataFrame:
    start, end = pd.Timestamp(programme["settings"]["start"]), pd.Timestamp(
        programme["settings"]["eind"])
    seen = set()
    codes, bad = [], []
    positions = [rows.columns.get_loc(c) + 1 for c in COUNTS]  # itertuples: 0 is the index
    for row in rows.itertuples():
        where = (row.Bestand, row.Blad, f"A{row.Rij}")
        problem = False
        if row.gemeente not in programme["municipalities"]:
            findings.append((*where, "gemeente-onbekend", "fout"))
            problem = True
        if not isinstance(row.periode, str) or not re.fullmatch(r"\d{4}-Q[1-4]", row.periode):
            findings.append((*where, "periode-ongeldig", "fout"))
            problem = True
        elif not start <= pd.Period(row.periode, "Q").end_time <= end + pd.Timedelta(days=1):
            findings.append((*where, "periode-buiten-programma", "fout"))
        code = programme["names"].get(key(row.project))
        if code is None:
            findings.append((*where, "project-onbekend", "fout"))
            problem = True
        elif (row.gemeente, row.periode, code) in seen:
            findings.append((*where, "dubbele-rij", "fout"))
            problem = True
        else:
            seen.add((row.gemeente, row.periode, code))
        for value in (row[i] for i in positions):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                findings.append((*where, "waarde-ontbreekt", "waarschuwing"))
            elif not isinstance(value, int | float) or value < 0 or float(value) % 1:
                findings.append((*where, "geen-geheel-getal", "fout"))
                problem = True
        codes.append(code)
        bad.append(problem)
    rows = rows.assign(Projectcode=codes, _fout=bad)
    for column in COUNTS:
        rows[column] = pd.to_numeric(rows[column], errors="coerce").fillna(0)
    positions = [totals.columns.get_loc(c) + 1 for c in COUNTS]
    for total in totals.itertuples():
        same = rows[(rows["Bestand"] == total.Bestand) & (rows["periode"] == total.periode)]
        for column, position in zip(COUNTS, positions, strict=True):
            if float(total[position] or 0) != same[column].sum():
                findings.append((total.Bestand, total.Blad, f"A{total.Rij}", "totaal-klopt-niet",
                                 "fout"))
    # The programme's rules, on the sums up to and including each quarter.
    rows = rows.sort_values(["gemeente", "Projectcode", "periode"])
    cumulative = rows.groupby(["gemeente", "Projectcode"])[COUNTS].cumsum()
    labels = {"aanmeldingen": COUNTS[0], "gestarte_trajecten": COUNTS[1],
              "afgeronde_scholing": COUNTS[2], "bemiddeld_naar_werk": COUNTS[3]}
    for rule in programme["rules"].itertuples():
        left, right = labels[rule.links], labels[rule.rechts]
        for index, row in cumulative.iterrows():
            if row[left] > row[right]:
                source = rows.loc[index]
                findings.append((source["Bestand"], source["Blad"], f"A{source['Rij']}",
                                 rule.code, rule.ernst))
    return rows


def consolidate(programme_path: Path, inbox: Path, output: Path) -> int:
    programme = read_programme(programme_path)
    parts, totals, findings = [], [], []
    for path in sorted(inbox.iterdir()):
        if path.suffix.lower() not in (".xlsx", ".xlsm") or path.name.startswith("~$"):
            continue
        try:
            rows, total = read_file(path)
        except Exception as exc:
            findings.append((path.name, "", "", "bestand-onleesbaar", f"fout: {exc}"))
            continue
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        extra = {"Bestand": path.name, "sha256": digest,
                 "Gewijzigd": datetime.fromtimestamp(stat.st_mtime)}
        parts.append(rows.assign(**extra))
        totals.append(total.assign(**extra))
    rows = pd.concat(parts, ignore_index=True)
    rows = check(rows, pd.concat(totals, ignore_index=True), programme, findings)
    rejected = {f[0] for f in findings if f[4] == "fout"}
    rows = rows[~rows["Bestand"].isin(rejected)]
    # The newest file per municipality and quarter wins.
    newest = rows.groupby(["gemeente", "periode"])["Gewijzigd"].transform("max")
    rows = rows[rows["Gewijzigd"] == newest]
    projects = programme["projects"]
    data = pd.DataFrame({
        "Gemeente": rows["gemeente"],
        "CBS-code": rows["gemeente"].map(programme["municipalities"]),
        "Periode": rows["periode"],
        "Kwartaaleinde": [pd.Period(p, "Q").end_time.date() for p in rows["periode"]],
        "Projectcode": rows["Projectcode"],
        "Project": rows["Projectcode"].map(projects["naam"]),
        **{c: rows[c].astype(int) for c in COUNTS},
        "Toelichting": rows["Toelichting"],
        "Bestand": rows["Bestand"], "Blad": rows["Blad"],
        "Cellen": [f"{first}{r}:{last}{r}" if last else f"{first}{r}" for (first, _, last), r
                   in zip(rows["Kolommen"].str.partition(":").to_numpy(), rows["Rij"],
                          strict=True)],
        "sha256": rows["sha256"],
    }).sort_values(["Gemeente", "Periode", "Projectcode"])
    summary = data.groupby("Gemeente")[COUNTS].sum()
    with pd.ExcelWriter(output, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name="Gemeenten")
        pd.DataFrame(findings, columns=["Bestand", "Blad", "Cel", "Code", "Ernst"]).to_excel(
            writer, sheet_name="Validatie", index=False)
        data.to_excel(writer, sheet_name="Data", index=False)
    return len(data)


if __name__ == "__main__":
    rows = consolidate(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    print(f"{rows} rows")
    sys.exit(0)
