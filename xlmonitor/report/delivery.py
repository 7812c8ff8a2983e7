"""Delivery and accountability for the report: which municipality delivered which quarter
(from the matrix on ``Inzendingen`` and ``tblInzendingen``'s "Op tijd"), and the counts of
the "Verantwoording" (files, findings)."""

from __future__ import annotations

import pandas as pd

from xlmonitor.master.contract import MATRIX_HEADER, MATRIX_SHEET

#: Quarters shown in the delivery table (A4 portrait); earlier ones are on Inzendingen.
SHOWN_QUARTERS = 6


def delivery(source, calculator, peilperiode: str) -> pd.DataFrame:
    """Gemeente × quarter (the last :data:`SHOWN_QUARTERS` up to ``peilperiode``): the
    matrix status on Inzendingen, ``ontvangen`` split into on time and ``te laat``."""
    names = [q for q, _ in calculator.quarters]
    shown = names[max(0, names.index(peilperiode) + 1 - SHOWN_QUARTERS):
                  names.index(peilperiode) + 1]
    matrix = _matrix(source)
    late = _late(source.table("tblInzendingen"))
    towns = [str(n) for n in source.table("tblGemeenten")["Gemeente"]]
    rows = {}
    for town in towns:
        row = {}
        for quarter in shown:
            status = matrix.get((town, quarter), "")
            if status == "ontvangen" and (town, quarter) in late:
                status = "te laat"
            row[quarter] = status or "ontbreekt"
        rows[town] = row
    return pd.DataFrame.from_dict(rows, orient="index", columns=shown)


def _matrix(source) -> dict[tuple[str, str], str]:
    """(Gemeente, Kwartaal) → status as the matrix on Inzendingen shows it."""
    import python_calamine

    column = ord(MATRIX_HEADER[0]) - 65
    row = int(MATRIX_HEADER[1:]) - 1
    book = python_calamine.CalamineWorkbook.from_path(str(source.path))
    grid = book.get_sheet_by_name(MATRIX_SHEET).to_python(skip_empty_area=False)
    if len(grid) <= row or str(grid[row][column]) != "Gemeente":
        return {}
    header = [str(v) for v in grid[row][column + 1:]]
    result = {}
    for line in grid[row + 1:]:
        town = str(line[column]).strip()
        if not town:
            break
        for quarter, status in zip(header, line[column + 1:], strict=False):
            if quarter and quarter != "Ontbreekt":
                result[(town, quarter)] = str(status).strip()
    return result


def _late(register: pd.DataFrame) -> set[tuple[str, str]]:
    late = set()
    if register.empty:
        return late
    for row in register.to_dict("records"):
        if str(row.get("Status")) == "ontvangen" and str(row.get("Op tijd")) == "nee":
            for quarter in str(row.get("Periodes", "")).split(","):
                late.add((str(row.get("Gemeente")), quarter.strip()))
    return late


def accounts(source) -> dict[str, int]:
    """Counts for "Verantwoording": files by status, errors and warnings."""
    register = source.table("tblInzendingen")
    findings = source.table("tblBevindingen")
    statuses = register["Status"].astype(str).value_counts() if len(register) else {}
    severities = findings["Ernst"].astype(str).value_counts() if len(findings) else {}
    counted = {k: int(v) for k, v in dict(statuses).items()}
    return {"bestanden": int(sum(v for k, v in counted.items() if k != "overgeslagen")),
            **counted,
            "fouten": int(dict(severities).get("fout", 0)),
            "waarschuwingen": int(dict(severities).get("waarschuwing", 0))}
