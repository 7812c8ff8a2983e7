"""The package's shape: stages as subpackages, imports only down the pipeline, no circles
(imports under ``TYPE_CHECKING`` and inside functions counted), a command line that starts
without the heavy libraries. See docs/architecture.md."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import xlmonitor

PACKAGE = Path(xlmonitor.__file__).resolve().parent

#: The pipeline, bottom up. A module may import from its own stage and from stages in lower
#: layers; stages in one layer are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("_version", "errors", "periods", "atomic", "reproducible", "privacy", "texts"),
    ("findings", "libreoffice"),
    ("programme",),
    ("template",),
    ("intake",),
    ("validation",),
    ("consolidation",),
    ("master", "feedback"),
    ("export", "run"),
    ("excel", "report"),
    ("server",),
    ("demo", "build"),
    ("cli", "__main__", "__init__"),
]
LAYER = {stage: i for i, layer in enumerate(LAYERS) for stage in layer}
HEAVY = ("pandas", "pandera", "openpyxl", "xlsxwriter", "pyarrow", "numpy", "python_calamine",
         "starlette", "uvicorn", "xlwings", "docx",
         "matplotlib")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """xlmonitor modules ``name`` imports anywhere in its file (``from a import b``: the
    module ``a.b`` when it is one, else ``a``)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {m for m in found if m in known and m != name}


def stage(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_every_stage_has_a_layer(graph):
    assert {stage(name) for name in graph} <= set(LAYER), "add the new stage to LAYERS"


def test_imports_go_down_the_pipeline(graph):
    wrong = [(source, target) for source, targets in graph.items() for target in targets
             if stage(source) != stage(target)
             and LAYER[stage(target)] >= LAYER[stage(source)]]
    assert wrong == [], "imports up or across the pipeline (move the shared piece down)"


def test_no_import_circles(graph):
    circles, state = [], {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                circles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_each_stage_says_what_it_owns():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        module = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(module), f"{init} has no docstring"
        names = [n for n in module.body if isinstance(n, ast.Assign)
                 and any(getattr(t, "id", "") == "__all__" for t in n.targets)]
        assert names, f"{init} has no __all__"


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["validate", "--help"],
                                  ["consolidate", "--help"], ["server", "--help"],
                                  ["rapport", "--help"]])
def test_the_command_line_starts_without_heavy_libraries(argv):
    code = ("import sys, runpy; sys.argv = ['xlmonitor', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('xlmonitor.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_public_surface_is_what_all_names():
    for name in xlmonitor.__all__:
        assert getattr(xlmonitor, name) is not None
    assert callable(xlmonitor.consolidate)  # the function, not the consolidation stage


def test_every_subpackage_is_packaged():
    """A wheel holds only the packages pyproject.toml lists: a stage left out would be
    missing on a user's machine although every test here passes (editable install)."""
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    on_disk = {module_name(init) for init in PACKAGE.rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
