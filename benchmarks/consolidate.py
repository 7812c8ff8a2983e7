"""Time xlmonitor against the plain pandas way, on the same generated inboxes.

    python benchmarks/consolidate.py                      # every scenario, 3 repeats
    python benchmarks/consolidate.py --scenario n350 --herhalingen 5 --map /tmp/bench

For each scenario (see :data:`SCENARIOS`; inboxes are made by ``generate.py`` once and
reused) and each repeat, every measurement runs in a fresh Python process:

* **(a) koud** — xlmonitor cold: ``load_programme`` + ``consolidate(jobs=J)`` +
  ``write_master`` (the full master: dashboard formulas with cached values, conditional
  formats, charts, the four tables);
* **(a) warm** — the same with the submission cache filled by an earlier run and one file
  changed since (a different number in it): only that file is read;
* **(b) pandas** — :mod:`plain_pandas`: ``read_excel`` (openpyxl) per file, ``concat``, the
  checks row by row, ``to_excel`` (openpyxl).

Seconds are measured inside the process, after the imports, and the table shows the median of
the repeats; peak memory is ``ru_maxrss`` of that process (worker processes of ``jobs`` > 1
are listed apart: each holds one file at a time). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = {  # name: (municipalities, quarters, first quarter)
    "n7": (7, 1, "2021-Q3"),
    "n50": (50, 1, "2021-Q3"),
    "n350": (350, 1, "2021-Q3"),
    "n7x8": (7, 8, "2020-Q3"),
}


# -- what runs in the child process ---------------------------------------------------------

def child(kind: str, folder: Path, master: Path, jobs: int, cache: Path | None) -> dict:
    started = time.perf_counter()
    if kind == "pandas":
        sys.path.insert(0, str(HERE))
        import plain_pandas

        started = time.perf_counter()
        rows = plain_pandas.consolidate(folder / "programma.xlsx", folder / "inbox", master)
        phases = {}
    else:
        from xlmonitor.consolidation.merge import consolidate
        from xlmonitor.master.publish import write_master
        from xlmonitor.programme.definition import load_programme

        started = time.perf_counter()
        programme = load_programme(folder / "programma.xlsx")
        result = consolidate(folder / "inbox", programme, jobs=jobs, cache=cache)
        read = time.perf_counter()
        write_master(result, master)
        rows = len(result.data)
        phases = {"consolidate": read - started, "write": time.perf_counter() - read}
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "rows": rows, "peak_mb": own, "worker_peak_mb": workers,
            **phases}


def measure(kind: str, folder: Path, master: Path, jobs: int = 1,
            cache: Path | None = None) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--kind", kind,
               "--map", str(folder), "--master", str(master), "--jobs", str(jobs)]
    if cache is not None:
        command += ["--cache-map", str(cache)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- scenarios -------------------------------------------------------------------------------

def prepare(root: Path, name: str) -> Path:
    folder = root / name
    if not (folder / "inbox").is_dir():
        sys.path.insert(0, str(HERE))
        import generate

        municipalities, quarters, first = SCENARIOS[name]
        print(f"generating {name} …", file=sys.stderr, flush=True)
        generate.generate(folder, municipalities, quarters, first)
    return folder


def change_one_file(inbox: Path, round_: int) -> str:
    """Rewrite one file with another count in it: new bytes, same layout."""
    import openpyxl

    path = sorted(inbox.glob("Monitor_*.xlsx"))[round_]
    book = openpyxl.load_workbook(path)
    book["Invoer"]["C8"] = 1000 + round_
    book.save(path)
    return path.name


def run_scenario(root: Path, name: str, repeats: int, jobs: int, single: bool) -> dict:
    folder = prepare(root, name)
    work = root / f"{name}-werk"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    inbox_files = [p for p in (folder / "inbox").iterdir()]
    result: dict = {"scenario": name, "municipalities": SCENARIOS[name][0],
                    "quarters": SCENARIOS[name][1], "files": len(inbox_files), "jobs": jobs}
    runs: dict[str, list[dict]] = {"cold": [], "single": [], "warm": [], "pandas": []}
    # The warm runs use a copy of the inbox, so the generated one stays as it is.
    warm = work / "warm"
    shutil.copytree(folder, warm)
    cache = work / "cache"
    measure("xlmonitor", warm, work / "warm.xlsx", jobs, cache)  # fills the cache
    for round_ in range(repeats):
        runs["cold"].append(measure("xlmonitor", folder, work / "cold.xlsx", jobs))
        if single:
            runs["single"].append(measure("xlmonitor", folder, work / "single.xlsx", 1))
        change_one_file(warm / "inbox", round_)
        runs["warm"].append(measure("xlmonitor", warm, work / "warm.xlsx", jobs, cache))
        runs["pandas"].append(measure("pandas", folder, work / "pandas.xlsx"))
        print(f"{name} round {round_ + 1}: " + ", ".join(
            f"{k} {v[-1]['seconds']:.2f} s" for k, v in runs.items() if v),
            file=sys.stderr, flush=True)
    for kind, items in runs.items():
        if not items:
            continue
        result[kind] = {key: statistics.median(item[key] for item in items)
                        for key in items[0] if isinstance(items[0][key], int | float)}
        result[kind]["all_seconds"] = [round(item["seconds"], 2) for item in items]
    result["rows"] = runs["cold"][0]["rows"]
    shutil.rmtree(work, ignore_errors=True)
    return result


def table(results: list[dict]) -> str:
    lines = ["| scenario | N | quarters | files | rows | (a) cold s | (a) warm s | (b) pandas s "
             "| cold/(b) | warm/(b) | peak (a) MB | peak (a) worker MB | peak (b) MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        b = r["pandas"]["seconds"]
        lines.append(
            f"| {r['scenario']} | {r['municipalities']} | {r['quarters']} | {r['files']} | "
            f"{r['rows']:,} | {r['cold']['seconds']:.2f} | {r['warm']['seconds']:.2f} | "
            f"{b:.2f} | {r['cold']['seconds'] / b:.2f} | {r['warm']['seconds'] / b:.3f} | "
            f"{r['cold']['peak_mb']:.0f} | {r['cold']['worker_peak_mb']:.0f} | "
            f"{r['pandas']['peak_mb']:.0f} |")
    lines += ["", "Where (a)'s time goes (medians, seconds):", "",
              "| scenario | cold: consolidate | cold: write master | warm: consolidate | "
              "warm: write master | cold with 1 job |", "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        single = f"{r['single']['seconds']:.2f}" if "single" in r else "–"
        lines.append(f"| {r['scenario']} | {r['cold']['consolidate']:.2f} | "
                     f"{r['cold']['write']:.2f} | {r['warm']['consolidate']:.2f} | "
                     f"{r['warm']['write']:.2f} | {single} |")
    return "\n".join(lines)


def machine() -> str:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "–"

    cpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    keep = ("Architecture", "CPU(s):", "Model name", "Thread(s) per core", "CPU max MHz",
            "L3 cache")
    lines = [line.strip() for line in cpu.splitlines() if line.strip().startswith(keep)]
    with open("/proc/meminfo") as handle:
        memory = handle.readline().split(":")[1].strip()
    packages = ", ".join(f"{n} {version(n)}" for n in (
        "xlmonitor", "pandas", "numpy", "pyarrow", "openpyxl", "xlsxwriter", "python-calamine",
        "pandera"))
    return "\n".join([*lines, f"Memory: {memory}", f"Python {platform.python_version()} "
                      f"({platform.platform()})", packages])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", type=Path, default=Path("/tmp/xlmonitor-bench"))
    parser.add_argument("--scenario", nargs="*", default=list(SCENARIOS),
                        choices=list(SCENARIOS))
    parser.add_argument("--herhalingen", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="default: the cores")
    parser.add_argument("--een-taak", action="store_true",
                        help="also time the cold run with one job")
    parser.add_argument("--json", type=Path, help="write the results here too")
    # The child process:
    parser.add_argument("--kind", choices=["xlmonitor", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--master", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache-map", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.kind:
        print(json.dumps(child(args.kind, args.map, args.master, args.jobs or 1,
                               args.cache_map)))
        return 0
    from xlmonitor.run.settings import default_jobs

    jobs = args.jobs or default_jobs()
    results = [run_scenario(args.map, name, args.herhalingen, jobs, args.een_taak)
               for name in args.scenario]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(table(results))
    print()
    print(machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
