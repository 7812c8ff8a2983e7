"""What a command costs before it does anything: start-up against ``import pandas``.

    python benchmarks/startup.py                 # 15 alternating repeats
    python benchmarks/startup.py --herhalingen 30

Every measurement is a fresh process of this interpreter, timed from outside (wall clock,
interpreter start included for both): ``python -c "import pandas"`` against
``python -m xlmonitor.cli <command> --help`` for the top-level help and each command's help,
alternating so that both see the same machine load. The table shows medians and the ratio;
the target is ``--help`` at most 0.6 × ``import pandas``.

Then ``python -X importtime`` of ``validate`` (one file) and ``consolidate`` (the demo inbox):
which heavy libraries each command imports, and how long they took. Nothing here is part of
the test run; ``tests/test_architecture.py`` checks that ``--help`` imports none of them.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("pandas", "pandera", "openpyxl", "xlsxwriter", "pyarrow", "numpy", "python_calamine",
         "hypothesis", "xlwings", "docx", "matplotlib", "fastapi", "starlette", "uvicorn")


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - started


def help_commands() -> list[list[str]]:
    from xlmonitor.cli import build_parser

    names = sorted(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001
    return [["--help"], ["--version"], *([name, "--help"] for name in names)]


def startup(repeats: int) -> None:
    python = sys.executable
    baseline_cmd = [python, "-c", "import pandas"]
    commands = help_commands()
    times: dict[str, list[float]] = {"import pandas": []}
    for _ in range(repeats):
        times["import pandas"].append(wall(baseline_cmd))
        for args in commands:
            times.setdefault(" ".join(args), []).append(
                wall([python, "-m", "xlmonitor.cli", *args]))
    base = statistics.median(times["import pandas"])
    print("| command | median s | × import pandas |\n|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| `{name}` | {median:.3f} | {median / base:.2f} |")


def heavy_imports(args: list[str]) -> dict[str, float]:
    """Heavy top-level libraries a command imports, with their cumulative import time (s)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "xlmonitor.cli", *args],
                          capture_output=True, text=True, check=False)
    found = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        if match and match.group(3) in HEAVY and match.group(3) not in found:
            found[match.group(3)] = int(match.group(1)) / 1e6
    return found


def imports() -> None:
    from xlmonitor.demo import write_demo_inbox
    from xlmonitor.programme.definition import load_programme

    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        write_demo_inbox(load_programme(), inbox)
        one = sorted(inbox.glob("*.xlsx"))[0]
        runs = {"validate ONE.xlsx": ["validate", str(one)],
                "consolidate demo inbox": ["consolidate", str(inbox), "-o",
                                           str(Path(tmp) / "master.xlsx")]}
        print("\n| command | heavy libraries imported (cumulative import s) |\n|---|---|")
        for name, args in runs.items():
            found = heavy_imports(args)
            text = ", ".join(f"{k} {v:.2f}" for k, v in sorted(found.items(),
                                                                key=lambda kv: -kv[1]))
            print(f"| `{name}` | {text} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--herhalingen", type=int, default=15)
    args = parser.parse_args(argv)
    startup(args.herhalingen)
    imports()
    return 0


if __name__ == "__main__":
    sys.exit(main())
