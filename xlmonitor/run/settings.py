"""Settings of a consolidation run, in one place for the CLI, the schedule and the Excel button.

They come from ``xlmonitor.toml`` next to the master (or the file given with
``--instellingen``); command-line options override them. Every key is optional. Keys are
Dutch; the English name in brackets is accepted too. Relative paths are relative to the folder
of the toml file::

    inbox = "inbox"                     # [inbox] folder the municipalities save into
    master = "master.xlsx"              # [master] default: the master this file sits next to
    terugkoppeling = "terugkoppeling"   # [feedback] .controle.xlsx copies; never the inbox
    programma = "programma.xlsx"        # [programme] default: the programme shipped with xlmonitor
    vba_project = "vbaProject.bin"      # [vba_project] .xlsm master only; default: the
                                        #   VBA project of the current master
    peilperiode = "2021-Q3"             # [peilperiode] default: latest complete quarter
    archief = "archief"                 # [archive] folder for previous masters
    archief_bewaren = 30                # [retention] previous masters kept (0: none)
    wacht_seconden = 120                # [lock_wait] how long a second run waits for the first
    aanvoer_seconden = 60               # [settle] an incomplete file this young is "in aanvoer"
    log = "xlmonitor.log"               # [log] log file (default: next to the master)
    log_max_bytes = 1000000             # [log_max_bytes] size at which the log rotates
    log_bewaren = 5                     # [log_backups] rotated logs kept
    taken = 2                           # [jobs] processes reading files at the same time
                                        #   (default: the number of cores)
    meldingen = "meldingen.csv"         # [messages] your own wording of findings: rows of
                                        #   messages.csv (code + melding/titel) replacing
                                        #   the shipped texts (xlmonitor.findings)
    cache = true                        # [cache] keep read and checked files, so a re-run
                                        #   reads only new and changed ones: true (in
                                        #   .xlmonitor-cache next to the master), a folder, or
                                        #   false (default). Safe to delete; never the inbox

    [server]                            # only ``xlmonitor server`` reads this table
    token = "…"                         # the key the button sends; XLMONITOR_TOKEN wins
    max_verzoek_mb = 50                 # [max_request_mb] larger requests get 413
    wacht_seconden = 30                 # [lock_wait] how long a click waits for another run

An unknown key or a value of the wrong type stops the run with exit code 2, naming the key:
a typo in a nightly job's settings must not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from xlmonitor.errors import UsageError
from xlmonitor.periods import parse_period
from xlmonitor.texts import text

__all__ = ["SETTINGS_FILE_NAME", "ServerSettings", "Settings", "read_server_settings",
           "read_settings_file", "resolve_settings"]

SETTINGS_FILE_NAME = "xlmonitor.toml"
#: The table of xlmonitor.toml that only ``xlmonitor server`` reads (:class:`ServerSettings`).
SERVER_TABLE = "server"
#: Environment variable with the server's token; it wins over ``[server] token``.
TOKEN_VARIABLE = "XLMONITOR_TOKEN"

#: toml key (Dutch) → Settings field. The English field names are accepted as keys too.
KEYS = {
    "inbox": "inbox",
    "master": "master",
    "terugkoppeling": "feedback",
    "programma": "programme",
    "vba_project": "vba_project",
    "peilperiode": "peilperiode",
    "archief": "archive",
    "archief_bewaren": "retention",
    "wacht_seconden": "lock_wait",
    "aanvoer_seconden": "settle",
    "log": "log",
    "log_max_bytes": "log_max_bytes",
    "log_bewaren": "log_backups",
    "taken": "jobs",
    "cache": "cache",
    "meldingen": "messages",
}
_PATHS = {"inbox", "master", "feedback", "programme", "vba_project", "archive", "log",
          "cache", "messages"}
_INTEGERS = {"retention": 0, "log_max_bytes": 0, "log_backups": 0, "jobs": 1}  # → minimum
_SECONDS = {"lock_wait", "settle"}


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # Windows, macOS
        return max(os.cpu_count() or 1, 1)


@dataclass
class Settings:
    """Everything one consolidation run needs. Paths left ``None`` get their default next to
    the master (``archief/``, ``xlmonitor.log``)."""

    inbox: Path
    master: Path
    feedback: Path | None = None
    programme: Path | None = None
    vba_project: Path | None = None
    peilperiode: str | None = None
    archive: Path | None = None
    retention: int = 30
    lock_wait: float = 120.0
    settle: float = 60.0
    log: Path | None = None
    log_max_bytes: int = 1_000_000
    log_backups: int = 5
    jobs: int = field(default_factory=default_jobs)
    cache: Path | bool = False  # True: .xlmonitor-cache beside the master; False: none
    messages: Path | None = None  # CSV rewording messages.csv (xlmonitor.findings)
    source: Path | None = field(default=None, compare=False)  # the toml file, if any

    def __post_init__(self) -> None:
        self.inbox = Path(self.inbox)
        self.master = Path(self.master)
        for name in ("feedback", "programme", "vba_project", "archive", "log", "messages"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, Path(value))
        if self.archive is None:
            self.archive = self.master.parent / "archief"
        if self.log is None:
            self.log = self.master.parent / "xlmonitor.log"
        if self.cache is True:
            from xlmonitor.consolidation.cache import FOLDER_NAME  # pandas: only when used

            self.cache = self.master.parent / FOLDER_NAME
        elif self.cache is not False:
            self.cache = Path(self.cache)

    @property
    def lock_file(self) -> Path:
        """The lock shared by every run on this master (schedule, button, watch)."""
        return self.master.with_name(f".{self.master.name}.lock")

    def check(self) -> None:
        """Refuse settings that could touch the inbox or cannot work; raises UsageError."""
        if not self.inbox.is_dir():
            raise UsageError(text("instelling.inbox-ontbreekt", inbox=self.inbox))
        if self.master.suffix.lower() not in (".xlsx", ".xlsm"):
            raise UsageError(text("instelling.master-extensie", name=self.master.name))
        if self.master.suffix.lower() == ".xlsx" and self.vba_project is not None:
            raise UsageError(text("instelling.vba-xlsx", name=self.master.name))
        if not self.master.parent.is_dir():
            raise UsageError(text("instelling.mastermap-ontbreekt", folder=self.master.parent))
        inbox = self.inbox.resolve()
        for label, path in (("master", self.master), ("terugkoppelingsmap", self.feedback),
                            ("archiefmap", self.archive), ("logbestand", self.log),
                            ("cachemap", self.cache or None)):
            if path is not None and path.resolve().is_relative_to(inbox):
                raise UsageError(text("instelling.in-inbox", label=label, path=path,
                                      inbox=self.inbox))
        if self.messages is not None and not self.messages.is_file():
            raise UsageError(text("instelling.meldingen-ontbreekt", path=self.messages))
        if self.peilperiode is not None and parse_period(self.peilperiode) != self.peilperiode:
            raise UsageError(text("cli.ongeldige-peilperiode", period=self.peilperiode))


def read_settings_file(path: str | Path) -> dict[str, object]:
    """The toml file as Settings field names → values (paths made absolute to its folder)."""
    path = Path(path)
    raw = _read_toml(path)
    names = set(KEYS.values())
    values: dict[str, object] = {}
    for key, value in raw.items():
        if key == SERVER_TABLE and isinstance(value, dict):
            continue  # read (and checked) by read_server_settings
        name = KEYS.get(key, key if key in names else None)
        if name is None:
            known = ", ".join(KEYS)
            raise UsageError(text("instelling.onbekend", key=key, path=path, known=known))
        values[name] = _convert(name, value, key, path)
    return values


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text("utf-8-sig"))
    except FileNotFoundError:
        raise UsageError(text("instelling.bestand-ontbreekt", path=path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(text("instelling.bestand-onleesbaar", path=path,
                              reason=type(exc).__name__)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(text("instelling.geen-toml", path=path, reason=exc)) from exc


def _convert(name: str, value: object, key: str, path: Path) -> object:
    def wrong(expected: str) -> UsageError:
        return UsageError(text("instelling.verkeerd-type", key=key, path=path,
                                expected=expected, value=repr(value)))

    if name == "cache" and isinstance(value, bool):
        return value
    if name in _PATHS:
        if not isinstance(value, str) or not value.strip():
            raise wrong("een pad (tekst)")
        return Path(os.path.abspath(path.parent / value))  # "../inbox" without the ".."
    if name in _INTEGERS:
        if isinstance(value, bool) or not isinstance(value, int) or value < _INTEGERS[name]:
            raise wrong(f"een geheel getal van minstens {_INTEGERS[name]}")
        return value
    if name in _SECONDS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise wrong("een aantal seconden (0 of meer)")
        return float(value)
    if name == "peilperiode":
        period = parse_period(value)
        if period is None:
            raise wrong("een kwartaal als 2021-Q3")
        return period
    return value


def resolve_settings(*, settings_file: str | Path | None = None, **overrides: object) -> Settings:
    """Settings from ``settings_file`` (else ``xlmonitor.toml`` next to the master, if there
    is one), with every override that is not ``None`` taking precedence.

    Overrides use the field names of :class:`Settings` (``inbox``, ``master``, ``lock_wait``…).
    Raises UsageError when no inbox or master is known, or a value is invalid.
    """
    unknown = set(overrides) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    source = Path(settings_file) if settings_file is not None else None
    if source is None and given.get("master") is not None:
        beside = Path(given["master"]).parent / SETTINGS_FILE_NAME
        source = beside if beside.is_file() else None
    values = read_settings_file(source) if source is not None else {}
    values.update(given)
    if values.get("master") is None and source is not None:
        raise UsageError(text("instelling.geen-master-in", source=source))
    if values.get("master") is None:
        raise UsageError(text("instelling.geen-master", file=SETTINGS_FILE_NAME))
    if values.get("inbox") is None:
        raise UsageError(text("instelling.geen-inbox", file=SETTINGS_FILE_NAME))
    for name in _SECONDS:
        if name in values and float(values[name]) < 0:  # type: ignore[arg-type]
            raise UsageError(text("instelling.seconden", name=name))
    return Settings(source=source, **values)  # type: ignore[arg-type]


def with_overrides(settings: Settings, **overrides: object) -> Settings:
    """A copy of ``settings`` with the overrides that are not ``None``."""
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


# -- the server's settings ----------------------------------------------------------------------

#: ``[server]`` key (Dutch) → ServerSettings field; the English names are accepted too.
SERVER_KEYS = {"token": "token", "max_verzoek_mb": "max_request_mb",
               "wacht_seconden": "lock_wait"}
#: Shortest token accepted: a guessable key would make the server anyone's.
MIN_TOKEN_LENGTH = 16


@dataclass
class ServerSettings:
    """What ``xlmonitor server`` adds to a run's :class:`Settings`: the token the button must
    send, the largest request it reads and how long a click waits for another run (the
    nightly job) before it answers that one is busy. The token never appears in a repr."""

    token: str = field(default="", repr=False)
    max_request_mb: float = 50.0
    lock_wait: float = 30.0
    token_source: str = ""  # where the token came from, for the start-up line

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)


def read_server_settings(path: str | Path | None, *,
                         environ: dict[str, str] | None = None) -> ServerSettings:
    """The ``[server]`` table of ``path`` (none: defaults), the token from ``XLMONITOR_TOKEN``
    when that is set. Raises UsageError for an unknown key, a wrong value, or no token (or
    one shorter than :data:`MIN_TOKEN_LENGTH`): a server nobody has to prove anything to
    would consolidate for anyone on the network."""
    environ = os.environ if environ is None else environ
    table = _read_toml(Path(path)).get(SERVER_TABLE, {}) if path is not None else {}
    where = f"[{SERVER_TABLE}] in {path}"
    if not isinstance(table, dict):
        raise UsageError(f"'{SERVER_TABLE}' in {path} moet een tabel [{SERVER_TABLE}] zijn.")
    names = set(SERVER_KEYS.values())
    values: dict[str, object] = {}
    for key, value in table.items():
        name = SERVER_KEYS.get(key, key if key in names else None)
        if name is None:
            raise UsageError(f"Onbekende instelling '{key}' in {where}. Bekend zijn: "
                             f"{', '.join(SERVER_KEYS)}.")
        if name == "token":
            if not isinstance(value, str):
                raise UsageError(f"Instelling 'token' in {where} moet tekst zijn.")
            values[name] = value.strip()
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (
                name == "max_request_mb" and value == 0):
            expected = "een aantal megabytes (meer dan 0)" if name == "max_request_mb" else \
                "een aantal seconden (0 of meer)"
            raise UsageError(f"Instelling '{key}' in {where} moet {expected} zijn, "
                             f"niet {value!r}.")
        else:
            values[name] = float(value)
    settings = ServerSettings(**values)  # type: ignore[arg-type]
    if environ.get(TOKEN_VARIABLE, "").strip():
        settings.token, settings.token_source = environ[TOKEN_VARIABLE].strip(), TOKEN_VARIABLE
    elif settings.token:
        settings.token_source = where
    if not settings.token:
        raise UsageError(f"De server heeft een token nodig: zet het in de omgevingsvariabele "
                         f"{TOKEN_VARIABLE} of als token in [{SERVER_TABLE}] van "
                         f"{SETTINGS_FILE_NAME}. Maak er een met: python -c \"import secrets; "
                         "print(secrets.token_urlsafe(32))\"")
    if len(settings.token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"Het token van de server ({settings.token_source}) is te kort: "
                         f"gebruik minstens {MIN_TOKEN_LENGTH} tekens. Maak er een met: "
                         "python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    return settings
