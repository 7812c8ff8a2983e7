"""The catalogue of what xlmonitor tells its users outside findings: run summaries, the
Consolideer button's messages, the lock's messages, progress, the command line's own words
(argparse's English included). Findings have their own catalogue, ``messages.csv``
(:mod:`xlmonitor.findings`); this one is ``texts.csv`` beside it, with columns ``sleutel``
(key) and ``tekst`` (Dutch text with ``{name}`` placeholders).

Rows whose key starts with ``argparse:`` translate argparse's own messages: the rest of the
key is argparse's English message id, the text keeps its ``%(name)s`` placeholders.
:func:`dutch_argparse` puts them in force while a parser is built, parses or prints help.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources

__all__ = ["dutch_argparse", "text", "texts"]

_ARGPARSE = "argparse:"


@cache
def texts() -> dict[str, str]:
    """Key → Dutch text, as shipped."""
    source = resources.files("xlmonitor").joinpath("texts.csv").read_text("utf-8")
    return {row["sleutel"]: row["tekst"] for row in csv.DictReader(source.splitlines(True))}


def text(key: str, /, **params: object) -> str:
    """The text of ``key`` with ``params`` filled in (KeyError for an unknown key: a missing
    text is a programming error, and a test renders every key)."""
    template = texts()[key]
    return template.format(**params) if params else template


def _gettext(message: str) -> str:
    return texts().get(_ARGPARSE + message, message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return _gettext(singular if count == 1 else plural)


@contextmanager
def dutch_argparse() -> Iterator[None]:
    """argparse's messages in Dutch inside the block. argparse looks up its texts through the
    module's own ``_`` and ``ngettext`` when it builds a parser, parses and formats help; they
    are swapped for the catalogue's and restored afterwards (nested blocks are fine)."""
    import argparse

    before = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _gettext, _ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = before  # type: ignore[attr-defined]
