"""Region scale, whole fresh processes: what an analyst's click or a nightly run costs.

    python benchmarks/region.py                      # 7 municipalities × 16 quarters, 5 repeats
    python benchmarks/region.py --herhalingen 9 --map /tmp/xlmonitor-region

The inbox (``generate.py``: the seven municipalities in their own layouts, standard template,
Hilversum's report, Huizen's year overview, Gooise Meren's export; the programme's own 27
projects, or ``--rijen 240`` synthetic ones per file as in docs/design.md's measurements) is
consolidated by

* **xlmonitor**: ``python -m xlmonitor.cli --programma P consolidate INBOX -o master.xlsx``
  (read, check, merge, the whole master with formulas, charts and tables; cache off);
* **plain pandas**: ``pandas.read_excel(f, sheet_name=None)`` of every file, ``concat`` of all
  their sheets, ``to_excel`` of the result (openpyxl), no checking at all;

each as a whole fresh process timed from outside (interpreter start and imports included for
both), alternating so both see the same load; the table gives medians and the ratio (target:
at most 1). Not part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAIN = """
import sys
from pathlib import Path
import pandas as pd
frames = []
for path in sorted(Path(sys.argv[1]).iterdir()):
    for name, frame in pd.read_excel(path, sheet_name=None, header=None).items():
        frames.append(frame.assign(bestand=path.name, blad=name))
table = pd.concat(frames, ignore_index=True).astype(str)
table.to_excel(sys.argv[2], index=False)
print(len(table))
"""


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):  # 1: done, with findings (the inbox has some)
        raise SystemExit(f"{command[:4]} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", type=Path, default=None,
                        help="default /tmp/xlmonitor-region[-RIJEN]")
    parser.add_argument("--herhalingen", type=int, default=5)
    parser.add_argument("--kwartalen", type=int, default=16)
    parser.add_argument("--rijen", type=int, default=0,
                        help="rows per file (synthetic projects); 0: the programme's own")
    args = parser.parse_args(argv)
    folder = args.map or Path("/tmp/xlmonitor-region" + (f"-{args.rijen}" if args.rijen else ""))
    if not (folder / "inbox").is_dir():
        sys.path.insert(0, str(HERE))
        import generate

        generate.generate(folder, 7, args.kwartalen, "2020-Q1", args.rijen)
    inbox = folder / "inbox"
    files = sorted(inbox.iterdir())
    xlmonitor = [sys.executable, "-m", "xlmonitor.cli", "--programma",
                 str(folder / "programma.xlsx"), "consolidate", str(inbox), "-o",
                 str(folder / "master.xlsx"), "--quiet", "--geen-cache", "--jobs", "1"]
    plain = [sys.executable, "-c", PLAIN, str(inbox), str(folder / "pandas.xlsx")]
    times: dict[str, list[float]] = {"xlmonitor": [], "plain pandas": []}
    for _ in range(args.herhalingen):
        times["xlmonitor"].append(wall(xlmonitor))
        times["plain pandas"].append(wall(plain))
    base = statistics.median(times["plain pandas"])
    print(f"{len(files)} files, {sum(f.stat().st_size for f in files) / 2**20:.1f} MB "
          f"(7 municipalities × {args.kwartalen} quarters, four layouts)\n")
    print("| whole process | median s | all | × plain pandas |\n|---|---:|---|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {', '.join(f'{v:.2f}' for v in values)} | "
              f"{median / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
