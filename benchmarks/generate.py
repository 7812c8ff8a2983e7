"""Realistic inboxes for the benchmarks: N municipalities × Q quarters in the four layouts.

    python benchmarks/generate.py --gemeenten 350 --kwartalen 1 --eerste 2021-Q3 MAP

writes ``MAP/programma.xlsx`` (the seed programme with extra municipalities and projects) and
``MAP/inbox/`` with one file per municipality and quarter (Huizen's and Gooise Meren's layouts:
one file per year), written by the demo's own writers (:mod:`xlmonitor.demo`).

Scale, as docs/design.md measures it: a municipal file holds about 240 data rows, so the programme
gets synthetic projects (always running) until about 240 are active in each quarter. The real
seven municipalities keep their own layouts; synthetic ones (names made of Dutch place-name
parts, CBS codes from GM2000 up) use the standard template (70 %), Hilversum's report,
Huizen's year overview or Gooise Meren's export (10 % each). The figures are random but obey
the programme's rules; about 2 % of the template files carry a deliberate error ("12,5" or a
negative count), like the demo inbox, so findings and rejected files are part of the load.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import zipfile
from datetime import timedelta
from pathlib import Path
from unittest import mock

from xlmonitor import demo
from xlmonitor.periods import next_period, period_end, split_period
from xlmonitor.programme.definition import (
    INDICATOR_CODES,
    Programme,
    build_programme_workbook,
    load_programme,
    seed_tables,
)

ROWS_PER_FILE = 240
_PREFIXES = ["Noord", "Zuid", "Oost", "West", "Nieuw", "Oud", "Groot", "Klein", "Hoog", "Laag",
             "Midden", "Over", "Neder", "Boven", "Beneden", "Wester", "Ooster", "Zuider"]
_SUFFIXES = ["veen", "broek", "dam", "dijk", "horst", "wijk", "hoven", "meer", "berg", "rode",
             "loo", "sloot", "woude", "zande", "lo", "kerk", "heide", "wolde", "vliet",
             "haven", "gouw", "beek"]
_KINDS = ["Leerwerktraject", "Werkervaringsplaats", "Jobcoaching", "Taalcoaching",
          "Opstapbaan", "Praktijkroute", "Werkfit", "Scholingsroute", "Matchingstraject"]
_SECTORS = ["Zorg", "Techniek", "Horeca", "Logistiek", "Bouw", "Groen", "Retail", "ICT",
            "Schoonmaak", "Onderwijs", "Kinderopvang", "Beveiliging", "Facilitair",
            "Metaal", "Mobiliteit", "Energie", "Cultuur", "Sport", "Recreatie", "Welzijn",
            "Administratie", "Transport", "Productie", "Agrarisch", "Food"]
_REAL_LAYOUT = {"Hilversum": "hilversum", "Huizen": "huizen", "Gooise Meren": "gooise-meren"}


def municipality_names(count: int) -> list[tuple[str, str]]:
    """The seven real municipalities, then synthetic ones: (name, CBS code)."""
    real = list(seed_tables()["Gemeenten"])
    names = [f"{p}{s}" for p in _PREFIXES for s in _SUFFIXES]
    random.Random(7).shuffle(names)
    taken = {n.lower() for n, _ in real}
    synthetic = [n for n in names if n.lower() not in taken][: max(count - len(real), 0)]
    if len(real) + len(synthetic) < count:
        raise SystemExit(f"at most {len(real) + len(names)} municipalities")
    codes = [f"GM{2000 + i:04d}" for i in range(len(synthetic))]
    return (real + list(zip(synthetic, codes, strict=True)))[:count]


def programme_tables(municipalities: int, period: str,
                     rows_per_file: int = ROWS_PER_FILE) -> dict[str, list[tuple]]:
    """Seed tables with ``municipalities`` municipalities and enough always-running projects
    for about ``rows_per_file`` active projects in ``period`` (0: the seed's own projects)."""
    tables = seed_tables()
    tables["Gemeenten"] = municipality_names(municipalities)
    first, last = period_end(period), period_end(period)
    active = sum(1 for p in tables["Projecten"] if p[4] <= last and p[5] >= first
                 and p[6] != "on hold")
    rng = random.Random(11)
    projects, targets = list(tables["Projecten"]), list(tables["Doelstellingen"])
    settings = dict(tables["Programma"])
    start, end = settings["start"], settings["eind"]
    for i in range(max(rows_per_file - active, 0)):
        code = f"P{i + 1:03d}"
        kind, sector = _KINDS[i % len(_KINDS)], _SECTORS[(i // len(_KINDS)) % len(_SECTORS)]
        name = f"{kind} {sector}" + (f" {i // (len(_KINDS) * len(_SECTORS)) + 1}"
                                     if i >= len(_KINDS) * len(_SECTORS) else "")
        stuur = INDICATOR_CODES[1 + i % 3]
        projects.append((code, name, "Werken aan Werk", sector, start, end, "loopt", stuur, ""))
        targets.append((code, stuur, rng.randint(20, 400) * max(municipalities // 7, 1),
                        start, "benchmark"))
    tables["Projecten"], tables["Doelstellingen"] = projects, targets
    return tables


def figures(programme: Programme, periods: list[str], seed: int = 1
            ) -> dict[tuple[str, str, str], dict[str, int]]:
    """(municipality, period, project) → counts; per quarter started ≤ registered and
    trained, placed ≤ started, so the cumulative rules hold too."""
    rng = random.Random(seed)
    result = {}
    for municipality in programme.municipalities.index:
        for period in periods:
            for code in programme.active_projects(period).index:
                aan = rng.randint(0, 12)
                started = rng.randint(0, aan)
                result[(municipality, period, code)] = dict(zip(INDICATOR_CODES, (
                    aan, started, rng.randint(0, started), rng.randint(0, started)),
                    strict=True))
    return result


def _reported(programme, figures, municipality, period):
    """demo._reported without its filter on the demo's twelve projects."""
    return [(code, figures.get((municipality, period, code), dict.fromkeys(INDICATOR_CODES, 0)))
            for code in programme.active_projects(period).index]


def _rename(path: Path, old: str, new: str) -> None:
    """Replace a municipality's name in a written workbook's shared strings: the demo's
    Hilversum, Huizen and Gooise Meren writers put their own name in the file."""
    if old == new:
        return
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if info.filename == "xl/sharedStrings.xml":
                data = data.replace(f">{old}<".encode(), f">{new}<".encode()).replace(
                    f">Gemeente {old}<".encode(), f">Gemeente {new}<".encode())
            target.writestr(info, data)


def layout_of(municipality: str, index: int) -> str:
    if municipality in _REAL_LAYOUT:
        return _REAL_LAYOUT[municipality]
    return {7: "hilversum", 8: "huizen", 9: "gooise-meren"}.get(index % 10, "standaard")


def write_inbox(programme: Programme, inbox: Path, periods: list[str], *, seed: int = 1,
                faulty_share: float = 0.02) -> list[Path]:
    inbox.mkdir(parents=True, exist_ok=True)
    counts = figures(programme, periods, seed)
    rng = random.Random(seed + 1)
    years = sorted({split_period(p)[0] for p in periods})
    written: list[Path] = []
    with mock.patch.object(demo, "_reported", _reported):
        for index, municipality in enumerate(programme.municipalities.index):
            layout = layout_of(municipality, index)
            if layout in ("huizen", "gooise-meren"):
                own = "Huizen" if layout == "huizen" else "Gooise Meren"
                mine = {(own, p, c): v for (m, p, c), v in counts.items() if m == municipality}
                for year in years:
                    quarters = [p for p in periods if split_period(p)[0] == year]
                    if layout == "huizen":
                        path = demo._write_huizen(programme, year, mine, quarters,
                                                  inbox / f"{municipality}_monitor_{year}.xlsx")
                    else:
                        path = demo._write_gooise_meren(
                            programme, year, mine, quarters,
                            inbox / f"{municipality} export WaW {year}.xlsx")
                    _rename(path, own, municipality)
                    demo._set_mtime(path, period_end(quarters[-1]) + _days(rng))
                    written.append(path)
                continue
            for period in periods:
                rows = _reported(programme, counts, municipality, period)
                delivered = period_end(period) + _days(rng)
                if layout == "hilversum":
                    year, quarter = split_period(period)
                    path = inbox / f"{municipality} Q{quarter} {year} rapportage WaW.xlsx"
                    demo._write_hilversum(programme, period, rows, path)
                    _rename(path, "Hilversum", municipality)
                    demo._set_mtime(path, delivered)
                else:
                    overrides = None
                    if rng.random() < faulty_share:
                        code = rows[rng.randrange(len(rows))][0]
                        overrides = {(code, "aanmeldingen"): rng.choice(["12,5", -2])}
                    path = demo._fill_template(programme, municipality, period, rows,
                                               inbox / demo.template_name(municipality, period),
                                               filled_on=delivered, overrides=overrides)
                written.append(path)
    return written


def _days(rng: random.Random) -> timedelta:
    return timedelta(days=rng.randint(5, 40))


def generate(folder: Path, municipalities: int, quarters: int, first: str,
             rows_per_file: int = ROWS_PER_FILE) -> tuple[Path, Path]:
    """Write ``folder/programma.xlsx`` and ``folder/inbox``; returns both."""
    periods = [first]
    while len(periods) < quarters:
        periods.append(next_period(periods[-1]))
    folder.mkdir(parents=True, exist_ok=True)
    programme_path = build_programme_workbook(folder / "programma.xlsx",
                                              programme_tables(municipalities, periods[-1],
                                                               rows_per_file))
    programme = load_programme(programme_path)
    inbox = folder / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    write_inbox(programme, inbox, periods)
    return programme_path, inbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--gemeenten", type=int, default=7)
    parser.add_argument("--kwartalen", type=int, default=1)
    parser.add_argument("--eerste", default="2021-Q3", help="first quarter")
    args = parser.parse_args(argv)
    programme, inbox = generate(args.folder, args.gemeenten, args.kwartalen, args.eerste)
    files = sorted(inbox.iterdir())
    print(f"{programme}: {len(files)} files in {inbox} "
          f"({sum(f.stat().st_size for f in files) / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
