"""Shared pytest fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from xlmonitor.demo import write_demo_inbox
from xlmonitor.programme.definition import load_programme

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of headless LibreOffice; installs it once (root or sudo) when missing.

    Never skips: without LibreOffice the tests that need it fail, so CI always exercises it.
    """
    from xlmonitor.errors import LibreOfficeError
    from xlmonitor.libreoffice import find_pdftoppm, find_soffice

    def locate() -> str | None:
        try:
            path = find_soffice()
            find_pdftoppm()
        except LibreOfficeError:
            return None
        return path

    path = locate()
    if path is None:
        script = REPO_ROOT / "scripts" / "install-system-deps.sh"
        can_install = hasattr(os, "geteuid") and (os.geteuid() == 0 or shutil.which("sudo"))
        if can_install and script.is_file():
            result = subprocess.run(
                ["bash", str(script)], capture_output=True, text=True, check=False
            )
            path = locate()
            if path is None:
                pytest.fail(
                    f"LibreOffice/pdftoppm still missing after {script.name} "
                    f"(exit {result.returncode}):\n"
                    f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}",
                    pytrace=False,
                )
        else:
            pytest.fail(
                "LibreOffice (soffice) and pdftoppm are required: run "
                "scripts/install-system-deps.sh or set XLMONITOR_SOFFICE.",
                pytrace=False,
            )
    return path


@pytest.fixture(scope="session")
def demo_inbox(tmp_path_factory) -> Path:
    """The demo inbox (:func:`~xlmonitor.demo.write_demo_inbox`, shipped programme), written
    once per run. Read-only: a test that changes an inbox copies it first (copytree keeps the
    file times the demo sets)."""
    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    write_demo_inbox(load_programme(), inbox)
    return inbox


@pytest.fixture
def remote_book(monkeypatch):
    """Opens a workbook file as xlwings' remote engine sees it. That engine is licensed
    PolyForm Noncommercial, which covers government institutions: key ``noncommercial``.
    xlwings registers it when it is imported with the key set; it was imported before."""
    import xlwings
    from remote import remote_payload

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    if "remote" not in [engine.name for engine in xlwings.engines]:
        from xlwings.main import Engine
        from xlwings.pro import _xlremote  # validates the key now

        xlwings.engines.add(Engine(impl=_xlremote.engine))

    def open_book(path: Path):
        return xlwings.Book(json=remote_payload(path))

    return open_book
