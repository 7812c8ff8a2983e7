"""Personal data in submissions: found, reported masked, and masked wherever it would travel.

What counts (docs/design.md, "Never"):

* a **BSN** (burgerservicenummer) anywhere in a submission — any cell of any sheet, hidden
  ones too, and every other place a person can type text (notes, sheet names, names, headers,
  properties, ...: :mod:`xlmonitor.intake.hiding_places`) — as text (``123456782``,
  ``1234.56.782``, ``123 456 782``, ``123-456-782``) or stored as a number (Excel drops a
  leading zero, so a number of eight digits counts, zero-padded) that passes the eleven-test:
  9·d1 + 8·d2 + … + 2·d8 − d9 is a multiple of 11 and not 0. An error (``persoonsgegevens``,
  ``fout``), except where the precision rules (:func:`judge_number`, :func:`judge_text`) say
  the digits are plainly an amount (no finding) or may be one (a warning that asks,
  ``persoonsgegevens-vraag``): one in eleven nine-digit amounts passes the eleven-test;
* an **e-mail address** or a **Dutch phone number** (06-12345678, 035 123 4567,
  +31 (0)6 1234 5678) in a remark (``persoonsgegevens``, ``waarschuwing``).

The value itself never travels: findings show it masked (``*****6782``, ``j***@***.nl``,
``********78``), :func:`mask_text` masks remarks in the master, finding messages and details
(so also ``--json``), log lines and the feedback copy's cells. A file *name* with personal
data (a colleague naming the file after a client) is shown masked everywhere
(:func:`shown_file_name`) and reported (``persoonsgegevens-bestandsnaam``).

Scanning is cheap: the strings of a sheet are joined and searched with one regular expression
(C speed) only when a nine-digit shape is there at all; only numbers between 10,000,000 and
999,999,999 are tested one by one, and only those that pass ask for their number format.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain

BSN, EMAIL, PHONE = "bsn", "e-mail", "telefoon"

#: How each kind is named in the Dutch message (``... lijkt op {kind}``).
KIND_TEXT = {BSN: "een burgerservicenummer (BSN)", EMAIL: "een e-mailadres",
             PHONE: "een telefoonnummer"}

# Nine digits, alone or grouped 4-2-3 / 3-3-3 by one kind of separator; never part of a
# longer number or a decimal fraction (0.123456782).
_BSN = re.compile(r"(?<!\d)(?<!\d[.,])(?:\d{4}([ .\-]?)\d{2}\1\d{3}|\d{3}([ .\-])\d{3}\2\d{3})"
                  r"(?!\d)", re.ASCII)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
# Not part of a word or a longer number; an underscore separates, as in file names
# (``Laren_0612345678.xlsx``).
_PHONE = re.compile(r"""(?<![A-Za-z0-9+])(?:
      (?:\+|00)31[ \-.]?(?:\(0\)[ \-.]?)?[1-9](?:[ \-.]?\d){8}   # +31 6 12345678, 0031 35 ...
    | \(0\d{1,3}\)[ \-.]?\d(?:[ \-.]?\d){4,7}                     # (035) 123 45 67
    | 0[1-9](?:[ \-.]?\d){8}                                      # 06-12345678, 035-1234567
    )(?![A-Za-z0-9])""", re.X | re.ASCII)
_HINT = re.compile(r"[\d@]")  # no digit and no @: nothing to mask
_SEPARATOR = "\x00"  # joins a sheet's strings: no pattern matches across it
# The shape of a text: digits → "0", space, dot and dash → ".", anything else → "x". A BSN in any
# spelling _BSN accepts leaves one of _SHAPES; bytes.translate and `in` run at C speed.
_SHAPE = bytes(ord("0") if chr(b).isdigit() and b < 128 else ord(".") if b in b" .-" else
               ord("x") for b in range(256))
_SHAPES = (b"000000000", b"0000.00.000", b"000.000.000")
_SMALLEST, _LARGEST = 10_000_000, 999_999_999  # numbers that can be a BSN, zero-padded


@dataclass(frozen=True)
class Hit:
    """Personal data found in a workbook: its kind, where, and the value masked."""

    kind: str
    sheet: str
    cell: str
    masked: str
    #: Where, when not in a cell's value (Dutch, for the message): "notitie bij cel C9",
    #: "bladnaam", "documenteigenschap Titel". "" for a cell's value.
    place: str = ""
    #: Why it may be an amount after all (Dutch): then a warning that asks, not an error.
    question: str = ""


def _may_hold_bsn(text: str | bytes) -> bool:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    shape = data.translate(_SHAPE)
    return any(candidate in shape for candidate in _SHAPES)


def may_hold_bsn(text: str | bytes) -> bool:
    """Whether nine digits in a spelling a BSN can have are there at all (C speed: a cheap
    look before anything is parsed)."""
    return _may_hold_bsn(text)


def is_bsn(digits: str) -> bool:
    """The eleven-test on nine digits (separators ignored)."""
    digits = re.sub(r"\D", "", digits)
    if len(digits) != 9 or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0


def mask_bsn(text: str) -> str:
    return "*****" + re.sub(r"\D", "", text)[-4:]


def mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local[:1]}***@***.{domain.rsplit('.', 1)[-1]}"


def mask_phone(text: str) -> str:
    return "********" + re.sub(r"\D", "", text)[-2:]


def _is_phone(text: str) -> bool:
    """Ten digits starting with 0, or 31 and nine digits after + or 00 (a "(0)" ignored)."""
    text = text.replace("(0)", "").strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return digits.startswith("31") and len(digits) == 11
    if digits.startswith("0031"):
        return len(digits) == 13
    return len(digits) == 10 and digits[0] == "0" and digits[1] != "0"


def _bsn_match(match: re.Match) -> str:
    return mask_bsn(match.group()) if is_bsn(match.group()) else match.group()


def _phone_match(match: re.Match) -> str:
    return mask_phone(match.group()) if _is_phone(match.group()) else match.group()


def mask_text(text: str) -> str:
    """``text`` with every BSN, e-mail address and phone number masked."""
    if not text or not _HINT.search(text):
        return text
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    text = _PHONE.sub(_phone_match, text)
    return _BSN.sub(_bsn_match, text) if _may_hold_bsn(text) else text


# A spreadsheet's extension is kept out of the masking: an e-mail pattern would take
# ``j.jansen@laren.nl.xlsx`` for one address.
_SPREADSHEET_SUFFIX = re.compile(r"\.(?:xls[xmb]?|xlt[xm]?|ods|csv)$", re.I)


def _stem_and_suffix(name: str) -> tuple[str, str]:
    match = _SPREADSHEET_SUFFIX.search(name)
    return (name[:match.start()], match.group()) if match else (name, "")


def shown_file_name(name: str) -> str:
    """A file name (or a list of them) as xlmonitor shows it anywhere (master, findings,
    feedback copy, JSON, log): personal data masked (``Laren_*****6782.xlsx``). Where a name is
    a key, the real name is kept and this is applied on output only."""
    stem, suffix = _stem_and_suffix(name)
    return mask_text(stem) + suffix


def mask_value(value: object) -> object:
    """A cell value with personal data masked: text is masked in place; a number that is a
    BSN becomes its masked text. Anything else is returned as is."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and _number_is_bsn(value):
        return mask_bsn(f"{int(value):09d}")
    return value


def _number_is_bsn(value: float) -> bool:
    return _SMALLEST <= value <= _LARGEST and value == int(value) and \
        is_bsn(f"{int(value):09d}")


def find_bsns(sheet: str, grid: Sequence[Sequence[object]],
              number_format: Callable[[str], str] | None = None) -> list[Hit]:
    """Every BSN in a sheet's grid (row i, column j is A1 cell (j+1, i+1)), judged by the
    precision rules (:func:`judge_number`, :func:`judge_text`): a number that is plainly an
    amount is left out, one that may be either is a hit with a ``question``.
    ``number_format(cell)`` gives a cell's number format code ("" when unknown); it is only
    asked for the few numbers that pass the eleven-test."""
    flat, width = _flat(grid)
    if not width:
        return []
    fmt = number_format or (lambda cell: "")
    hits = []
    for index, digits in _bsn_numbers(flat):
        cell = _cell(index, width)
        question = judge_number(fmt(cell), _labels(flat, width, index))
        if question is not None:
            hits.append(Hit(BSN, sheet, cell, mask_bsn(digits), question=question))
    for index, match in _bsn_texts(flat):
        question = judge_text(flat[index], match, _labels(flat, width, index))
        hits.append(Hit(BSN, sheet, _cell(index, width), mask_bsn(match.group()),
                        question=question))
    return sorted(set(hits), key=lambda h: _cell_order(h.cell))


def _flat(grid: Sequence[Sequence[object]]) -> tuple[list[object], int]:
    """The grid's cells row by row, and its width (calamine's grids are rectangular; a ragged
    one is padded to be safe)."""
    width = max((len(row) for row in grid), default=0)
    if any(len(row) != width for row in grid):
        grid = [list(row) + [None] * (width - len(row)) for row in grid]
    return list(chain.from_iterable(grid)), width


def _bsn_numbers(flat: list[object]) -> list[tuple[int, str]]:
    """(index, nine digits) of every number that passes the eleven-test; only the few numbers
    in BSN range are tested one by one."""
    if not any(_SMALLEST <= v <= _LARGEST for v in flat
               if v.__class__ is float or v.__class__ is int):
        return []
    return [(index, f"{int(value):09d}") for index, value in enumerate(flat)
            if (value.__class__ is float or value.__class__ is int) and _number_is_bsn(value)]


def _bsn_texts(flat: list[object]) -> list[tuple[int, re.Match]]:
    """(index, match) of every BSN in the texts: one look at all strings of the sheet together;
    the regular expression only runs when a nine-digit shape is there at all."""
    indexes = [i for i, v in enumerate(flat) if v.__class__ is str]
    texts = [flat[i] for i in indexes]
    joined = _SEPARATOR.join(texts)
    if not _may_hold_bsn(joined):
        return []
    starts, position = [], 0
    for text in texts:
        starts.append(position)
        position += len(text) + 1
    result = []
    for match in _BSN.finditer(joined):
        if is_bsn(match.group()):
            number = bisect.bisect_right(starts, match.start()) - 1
            own = _BSN.search(texts[number], match.start() - starts[number])  # offsets in own text
            result.append((indexes[number], own))
    return result


def _labels(flat: list[object], width: int, index: int) -> tuple[str, str]:
    """The text nearest above a cell in its column (its header) and nearest to its left in its
    row (its label), "" when there is none."""
    row, column = divmod(index, width)
    above = next((v for v in (flat[r * width + column] for r in range(row - 1, -1, -1))
                  if _is_label(v)), "")
    left = next((v for v in (flat[row * width + c] for c in range(column - 1, -1, -1))
                 if _is_label(v)), "")
    return above, left


def _is_label(value: object) -> bool:
    return value.__class__ is str and bool(value.strip()) and not bsn_digits_in_text(value)


# -- precision: when nine digits that pass the eleven-test are not a BSN ---------------------
#
# The rules, with the privacy officer's eye (a missed BSN is worse than a question):
# * a number whose format says it is money, a fraction, a percentage, a date or a time, or is
#   written in scientific notation, is plainly not a BSN: no finding (a BSN is never shown as
#   € 123.456.782, 123456782,00, 12345678200 % or a date);
# * a number shown with thousands separators (123.456.782), or under a header / beside a label
#   that names an amount (bedrag, budget, euro, kosten, subsidie, ...): a warning that asks
#   ("is dit een BSN?"); both together: an amount, no finding;
# * a header or label naming a BSN (bsn, burgerservice, sofi) makes any hit an error;
# * text: an error, unless a euro sign or a cents tail (",00", ",-") is next to it or its
#   header/label names an amount: then a warning that asks. Text is never left out.

_AMOUNT_WORDS = re.compile(r"bedrag|budget|euro|€|kosten|subsidie|begroting|uitgave|inkomst|"
                           r"prijs|tarief|saldo|omzet|\beur\b", re.I)
_BSN_WORDS = re.compile(r"\bbsn|burgerservice|\bsofi", re.I)
# Headers naming another number of nine digits or fewer (a phone number typed as a number
# loses its 0): a question, never left out.
_OTHER_NUMBER_WORDS = re.compile(r"kvk|kamer van koophandel|telefoon|\btel\b|mobiel|iban|"
                                 r"rekening|postcode|cbs|agb|btw|vestiging|rsin", re.I)
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]')  # quoted text, escapes, [colours]
# Money: a currency sign, or a [$€-413] currency tag ([$-413] alone is a locale, not money).
_CURRENCY = re.compile(r"€|£|¥|\bEUR\b|\[\$[^\]\-]|\$(?![^\[]*\])", re.I)
_NOT_BSN_FORMATS = (
    ("een percentage", re.compile(r"%")),
    ("een getal met decimalen", re.compile(r"[0#?]\.[0#?]|^\.[0#?]")),
    ("wetenschappelijke notatie", re.compile(r"[eE][+-]")),
    ("een datum of tijd", re.compile(r"[dmyhs]", re.I)),
)
_THOUSANDS = re.compile(r"[0#?],[0#?]")
THOUSANDS_REASON = "het getal is opgemaakt met scheidingstekens voor duizendtallen"


def format_meaning(code: str) -> tuple[str, bool]:
    """What a number format says about its number: (reason it is plainly not a BSN, "" if it
    says nothing of the kind; whether it groups thousands). Format codes are stored in the
    en-US notation whatever the user's locale: ``#,##0.00``, ``[$€-413] #,##0``."""
    if not code or code.lower() == "general" or code == "@":
        return "", False
    if _CURRENCY.search(code):
        return "een bedrag in geld", True
    section = _FORMAT_NOISE.sub("", code.split(";")[0])
    for reason, pattern in _NOT_BSN_FORMATS:
        if pattern.search(section):
            return reason, False
    return "", bool(_THOUSANDS.search(section))


def judge_number(number_format: str, labels: Sequence[str]) -> str | None:
    """A number that passes the eleven-test: ``None`` when it is plainly not a BSN, ``""`` when
    it is one (an error), else why it may be an amount (a warning that asks)."""
    if any(_BSN_WORDS.search(label) for label in labels):
        return ""
    not_bsn, grouped = format_meaning(number_format)
    if not_bsn:
        return None
    named = next((label for label in labels if _AMOUNT_WORDS.search(label)), "")
    if grouped and named:
        return None
    if grouped:
        return THOUSANDS_REASON
    return _named_reason(named) if named else _other_number(labels)


def judge_text(text: str, match: re.Match, labels: Sequence[str]) -> str:
    """Nine digits in a text that pass the eleven-test: ``""`` (an error), or why they may be
    an amount (a warning that asks)."""
    if any(_BSN_WORDS.search(label) for label in labels):
        return ""
    before, after = text[max(0, match.start() - 5):match.start()], text[match.end():]
    if re.search(r"€|\beur", before, re.I) or re.match(r",(?:\d\d|-)(?!\d)", after):
        return "er staat een euroteken of centen bij"
    named = next((label for label in labels if _AMOUNT_WORDS.search(label)), "")
    return _named_reason(named) if named else _other_number(labels)


def _named_reason(label: str) -> str:
    shown = mask_text(label.strip())
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"de kolom of rij heet '{shown}'"


def _other_number(labels: Sequence[str]) -> str:
    named = next((label for label in labels if _OTHER_NUMBER_WORDS.search(label)), "")
    return _named_reason(named) if named else ""


def find_contact_data(text: str) -> list[tuple[str, str]]:
    """(kind, masked) of every e-mail address and phone number in a remark."""
    if not text or not _HINT.search(text):
        return []
    found = [(EMAIL, mask_email(m.group())) for m in _EMAIL.finditer(text)]
    found += [(PHONE, mask_phone(m.group())) for m in _PHONE.finditer(text)
              if _is_phone(m.group())]
    return found


def find_in_file_name(name: str) -> list[tuple[str, str]]:
    """(kind, masked) of every BSN, e-mail address and phone number in a file name, in the
    order they appear. The masked name itself is :func:`shown_file_name`."""
    if not name or not _HINT.search(name):
        return []
    name, _ = _stem_and_suffix(name)
    found = [(m.start(), BSN, mask_bsn(m.group())) for m in _BSN.finditer(name)
             if is_bsn(m.group())]
    found += [(m.start(), EMAIL, mask_email(m.group())) for m in _EMAIL.finditer(name)]
    found += [(m.start(), PHONE, mask_phone(m.group())) for m in _PHONE.finditer(name)
              if _is_phone(m.group())]
    return [(kind, masked) for _, kind, masked in sorted(found)]


def _cell(index: int, width: int) -> str:
    row, column = divmod(index, width)
    letters, number = "", column + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def _cell_order(cell: str) -> tuple[int, int, str]:
    letters = cell.rstrip("0123456789")
    return int(cell[len(letters):]), len(letters), letters


def bsn_digits_in_text(text: str) -> list[str]:
    """The nine digits of every BSN in a text, in order (for comparing; never shown)."""
    if not text or not _may_hold_bsn(text):
        return []
    return [d for d in (re.sub(r"\D", "", m.group()) for m in _BSN.finditer(text)) if is_bsn(d)]


def find_bsns_in_text(text: str) -> list[str]:
    """Every BSN in a text (a note, a sheet name, a property), masked, each once."""
    return list(dict.fromkeys(mask_bsn(digits) for digits in bsn_digits_in_text(text)))
