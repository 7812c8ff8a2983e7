"""The VBA of a workbook as olevba extracts it: module name → source, line ends normalised to
``\\n``. Shared by the button's and the server's tests."""

from __future__ import annotations

from pathlib import Path

from oletools.olevba import VBA_Parser


def vba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {Path(name).stem: code.replace("\r\n", "\n")
                for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
