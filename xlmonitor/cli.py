"""Command line: a thin layer over the library. Dutch for users (help and argparse's own
messages too, from the catalogue :mod:`xlmonitor.texts`); exit codes: 0 all good · 1 done,
but a file refused by a rule (afgekeurd, vergrendeld) or an error · 2 usage · 3 could not
write (see :mod:`xlmonitor.run.summary` for what counts)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from xlmonitor._version import __version__
from xlmonitor.errors import UsageError, XlmonitorError
from xlmonitor.texts import dutch_argparse, text

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_WRITE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse in Dutch (:func:`~xlmonitor.texts.dutch_argparse` around everything it says)
    that reports usage errors in one Dutch line with exit code 2."""

    def __init__(self, *args, **kwargs) -> None:
        with dutch_argparse():
            super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        with dutch_argparse():
            return super().add_argument(*args, **kwargs)

    def add_subparsers(self, **kwargs):
        with dutch_argparse():
            return super().add_subparsers(**kwargs)

    def parse_args(self, args=None, namespace=None):
        with dutch_argparse():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):
        with dutch_argparse():
            return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        with dutch_argparse():
            return super().format_usage()

    def format_help(self) -> str:
        with dutch_argparse():
            return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(text("cli.ongeldig", message=message))


def _programme(args):
    from xlmonitor.programme.definition import load_programme

    return load_programme(args.programma)


def cmd_template(args) -> int:
    from xlmonitor.periods import parse_period
    from xlmonitor.template.standard import build_template, build_templates, template_file_name

    programme = _programme(args)
    period = parse_period(args.periode)
    if period is None:
        raise UsageError(text("cli.ongeldige-periode", period=args.periode))
    if args.gemeente:
        municipality = programme.municipality(args.gemeente) or args.gemeente
        output = Path(args.output or template_file_name(municipality, period))
        path = build_template(programme, municipality, period, output)
        print(text("cli.sjabloon-geschreven", path=path))
    else:
        paths = build_templates(programme, period, Path(args.output or "."))
        for path in paths:
            print(text("cli.sjabloon-geschreven", path=path))
    return EXIT_OK


def cmd_validate(args) -> int:
    from xlmonitor.findings import use_catalogue

    programme = _programme(args)
    with use_catalogue(args.meldingen):
        return _validate(args, programme)


def _validate(args, programme) -> int:
    from xlmonitor.findings import group_findings
    from xlmonitor.intake.read import read_submission
    from xlmonitor.validation.checks import validate_submission

    results = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise UsageError(text("cli.bestand-bestaat-niet", name=name))
        submission = read_submission(path, programme)
        results.append(validate_submission(submission, programme))
    findings = [f for r in results for f in r.findings]
    if args.feedback:
        from xlmonitor.feedback.marked_copy import write_feedback_copy

        for result in results:
            if result.findings:
                write_feedback_copy(result.submission.path, result.findings,
                                    Path(args.feedback))
    if args.json:
        print(json.dumps([f.as_dict() for r in results for f in group_findings(r.findings)],
                         ensure_ascii=False, indent=2))
    else:
        from xlmonitor.privacy import shown_file_name

        for result in results:
            shown = group_findings(result.findings)  # what users read: cells as ranges
            errors = sum(f.is_error for f in shown)
            warnings = len(shown) - errors
            print(text("cli.validate-afgekeurd" if errors else "cli.validate-goedgekeurd",
                       file=shown_file_name(result.submission.name), errors=errors,
                       warnings=warnings))
            for f in shown:
                print(text("cli.validate-bevinding", severity=f.severity, message=f.message))
    return EXIT_FINDINGS if any(f.is_error for f in findings) else EXIT_OK


def _run_settings(args):
    from xlmonitor.run.settings import resolve_settings

    return resolve_settings(
        settings_file=getattr(args, "instellingen", None), inbox=args.inbox, master=args.output,
        feedback=getattr(args, "feedback", None), programme=args.programma,
        peilperiode=getattr(args, "peilperiode", None), lock_wait=getattr(args, "wacht", None),
        log=getattr(args, "log", None), jobs=getattr(args, "jobs", None),
        cache=_cache_option(args), messages=args.meldingen)


def cmd_consolidate(args) -> int:
    from xlmonitor.run.schedule import run_consolidation

    settings = _run_settings(args)
    result = run_consolidation(settings, echo=None if args.quiet or args.json else print)
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    elif not args.quiet:
        print("\n".join(result.report_lines()))
    if result.feedback_failed:
        print(text("cli.terugkoppeling-mislukt", count=len(result.feedback_failed),
                   log=settings.log), file=sys.stderr)
    return result.exit_code


def cmd_schedule(args) -> int:
    from xlmonitor.run.schedule import schedule_commands

    commands = schedule_commands(_run_settings(args), at=args.tijd)
    if args.print:  # the bare line for this system, to pipe: (crontab -l; … --print) | crontab -
        windows = os.name == "nt"
        if windows and commands["cmd_bestand"] in commands["schtasks"]:
            print(text("cli.schedule-eerst-opslaan", path=commands["cmd_bestand"],
                       content=commands["cmd"]), file=sys.stderr)
        print(commands["schtasks"] if windows else commands["cron"])
        return EXIT_OK
    if commands["cmd_bestand"] in commands["schtasks"]:
        print(text("cli.schedule-cmd-bestand", path=commands["cmd_bestand"]) + "\n")
        print(commands["cmd"].replace("\r\n", "\n"))
    print(text("cli.schedule-taakplanner"))
    print(f"  {commands['schtasks']}\n")
    print(text("cli.schedule-cron"))
    print(f"  {commands['cron']}\n")
    print(commands["toelichting"])
    return EXIT_OK


def cmd_watch(args) -> int:
    from xlmonitor.run.schedule import watch

    if args.interval <= 0:
        raise UsageError(text("cli.watch-interval"))
    settings = _run_settings(args)
    settings.check()
    echo = None if args.quiet else print
    if echo:
        echo(text("cli.watch-start", inbox=settings.inbox, interval=f"{args.interval:g}",
                  settle=f"{settings.settle:g}"))
    try:
        watch(settings, interval=args.interval, echo=echo)
    except KeyboardInterrupt:
        if echo:
            echo(text("cli.watch-gestopt"))
    return EXIT_OK


def cmd_export(args) -> int:
    from xlmonitor.export.outputs import export_dashboard, export_tables, resolve_peilperiode

    if not (args.pdf or args.png or args.csv or args.parquet):
        raise UsageError(text("cli.export-niets"))
    if args.peilperiode and not (args.pdf or args.png):
        raise UsageError(text("cli.export-peilperiode"))
    if args.peilperiode:  # checked before anything is written
        args.peilperiode = resolve_peilperiode(args.master, args.peilperiode)
    written = []
    if args.csv:
        written += export_tables(args.master, Path(args.csv), fmt="csv")
    if args.parquet:
        written += export_tables(args.master, Path(args.parquet), fmt="parquet")
    if args.pdf or args.png:
        written += export_dashboard(args.master, pdf=args.pdf, png=args.png,
                                    peilperiode=args.peilperiode, dpi=args.dpi)
    for path in written:
        print(text("cli.geschreven", path=path))
    return EXIT_OK


def cmd_rapport(args) -> int:
    from xlmonitor.report.monitor import write_report

    written = write_report(args.master, Path(args.output), peilperiode=args.peilperiode,
                           pdf=Path(args.pdf) if args.pdf else None)
    print(text("cli.geschreven", path=written))
    if args.pdf:
        print(text("cli.geschreven", path=args.pdf))
    return EXIT_OK


def cmd_demo(args) -> int:
    from xlmonitor.demo import run_demo

    run_demo(Path(args.map), programme=_programme(args), echo=print)
    return EXIT_OK


def cmd_server(args) -> int:
    from xlmonitor.server import serve

    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise UsageError(text("cli.server.ssl-beide"))
    serve(Path.cwd(), host=args.host, port=args.port, settings_file=args.instellingen,
          ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    return EXIT_OK


def cmd_build_workbooks(args) -> int:
    from xlmonitor.build import build_workbooks

    for path in build_workbooks(Path(args.map)):
        print(text("cli.gebouwd", path=path))
    return EXIT_OK


def _run_arguments(p: argparse.ArgumentParser) -> None:
    """Options of an unattended run; they override xlmonitor.toml next to the master."""
    p.add_argument("inbox", nargs="?", metavar="INBOX", help=text("cli.run.inbox"))
    p.add_argument("-o", "--output", metavar="MASTER", help=text("cli.run.output"))
    p.add_argument("--feedback", metavar="MAP", help=text("cli.run.feedback"))
    p.add_argument("--log", metavar="BESTAND",
                   help=text("cli.run.log"))
    p.add_argument("--wacht", type=float, metavar="SECONDEN",
                   help=text("cli.run.wacht"))
    p.add_argument("--instellingen", metavar="BESTAND",
                   help=text("cli.run.instellingen"))
    p.add_argument("--jobs", "--taken", type=_positive_int, metavar="N",
                   help=text("cli.run.taken"))
    p.add_argument("--cache", action="store_true",
                   help=text("cli.run.cache"))
    p.add_argument("--cache-map", metavar="MAP", help=text("cli.run.cache-map"))
    p.add_argument("--geen-cache", action="store_true",
                   help=text("cli.run.geen-cache"))


def _cache_option(args) -> Path | bool | None:
    """--geen-cache, --cache-map MAP, --cache; None: as xlmonitor.toml says."""
    if getattr(args, "geen_cache", False):
        return False
    if getattr(args, "cache_map", None):
        return Path(args.cache_map)
    return True if getattr(args, "cache", False) else None


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(text("cli.geen-positief-getal", value=value))
    return int(value)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(text("cli.server.geen-poort", value=value))
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xlmonitor", description=(
        text("cli.omschrijving")))
    parser.add_argument("--programma", metavar="BESTAND",
                        help=text("cli.xlmonitor.programma"))
    parser.add_argument("--meldingen", metavar="BESTAND",
                        help=text("cli.xlmonitor.meldingen"))
    parser.add_argument("--version", action="version", version=f"xlmonitor {__version__}",
                        help=text("cli.xlmonitor.version"))
    commands = parser.add_subparsers(dest="command", metavar="OPDRACHT", parser_class=_Parser)

    p = commands.add_parser("validate", help=text("cli.opdracht.validate"))
    p.add_argument("files", nargs="+", metavar="BESTAND")
    p.add_argument("--json", action="store_true", help=text("cli.validate.json"))
    p.add_argument("--feedback", metavar="MAP", help=text("cli.validate.feedback"))
    p.set_defaults(func=cmd_validate)

    p = commands.add_parser("consolidate", help=text("cli.opdracht.consolidate"))
    _run_arguments(p)
    p.add_argument("--peilperiode", metavar="KWARTAAL", help=text("cli.consolidate.peilperiode"))
    p.add_argument("--json", action="store_true", help=text("cli.consolidate.json"))
    p.add_argument("--quiet", action="store_true",
                   help=text("cli.consolidate.quiet"))
    p.set_defaults(func=cmd_consolidate)

    p = commands.add_parser(
        "schedule", help=text("cli.opdracht.schedule"))
    _run_arguments(p)
    p.add_argument("--print", action="store_true",
                   help=text("cli.schedule.print"))
    p.add_argument("--tijd", default="02:00", metavar="UU:MM", help=text("cli.schedule.tijd"))
    p.set_defaults(func=cmd_schedule)

    p = commands.add_parser(
        "watch", help=text("cli.opdracht.watch"))
    _run_arguments(p)
    p.add_argument("--peilperiode", metavar="KWARTAAL", help=text("cli.watch.peilperiode"))
    p.add_argument("--interval", type=float, default=10.0, metavar="SECONDEN",
                   help=text("cli.watch.interval"))
    p.add_argument("--quiet", action="store_true", help=text("cli.watch.quiet"))
    p.set_defaults(func=cmd_watch)

    p = commands.add_parser("template", help=text("cli.opdracht.template"))
    p.add_argument("--gemeente", help=text("cli.template.gemeente"))
    p.add_argument("--periode", required=True, help=text("cli.template.periode"))
    p.add_argument("-o", "--output", help=text("cli.template.output"))
    p.set_defaults(func=cmd_template)

    p = commands.add_parser(
        "export", help=text("cli.opdracht.export"))
    p.add_argument("master", metavar="MASTER", help=text("cli.export.master"))
    p.add_argument("--pdf", metavar="BESTAND", help=text("cli.export.pdf"))
    p.add_argument("--png", metavar="BESTAND", help=text("cli.export.png"))
    p.add_argument("--peilperiode", metavar="KWARTAAL",
                   help=text("cli.export.peilperiode"))
    p.add_argument("--dpi", type=int, default=150, metavar="N",
                   help=text("cli.export.dpi"))
    p.add_argument("--csv", metavar="MAP",
                   help=text("cli.export.csv"))
    p.add_argument("--parquet", metavar="MAP",
                   help=text("cli.export.parquet"))
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("rapport", help=text("cli.opdracht.rapport"))
    p.add_argument("master", metavar="MASTER", help=text("cli.rapport.master"))
    p.add_argument("--peilperiode", metavar="KWARTAAL", help=text("cli.rapport.peilperiode"))
    p.add_argument("-o", "--output", required=True, metavar="BESTAND",
                   help=text("cli.rapport.output"))
    p.add_argument("--pdf", metavar="BESTAND", help=text("cli.rapport.pdf"))
    p.set_defaults(func=cmd_rapport)

    p = commands.add_parser("demo", help=text("cli.opdracht.demo"))
    p.add_argument("map", nargs="?", default="xlmonitor-demo", metavar="MAP")
    p.set_defaults(func=cmd_demo)

    p = commands.add_parser(
        "server", help=text("cli.opdracht.server"))
    p.add_argument("--host", default="127.0.0.1", help=text("cli.server.host"))
    p.add_argument("--port", type=_port, default=8765, help=text("cli.server.port"))
    p.add_argument("--instellingen", metavar="BESTAND", help=text("cli.server.instellingen"))
    p.add_argument("--ssl-certfile", metavar="BESTAND", help=text("cli.server.ssl-certfile"))
    p.add_argument("--ssl-keyfile", metavar="BESTAND", help=text("cli.server.ssl-keyfile"))
    p.set_defaults(func=cmd_server)

    p = commands.add_parser("build-workbooks",
                            help=text("cli.opdracht.build-workbooks"))
    p.add_argument("map", nargs="?", default="workbooks", metavar="MAP")
    p.set_defaults(func=cmd_build_workbooks)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        if getattr(args, "peilperiode", None):
            from xlmonitor.periods import parse_period

            period = parse_period(args.peilperiode)
            if period is None:
                raise UsageError(text("cli.ongeldige-peilperiode", period=args.peilperiode))
            args.peilperiode = period
        return args.func(args)
    except XlmonitorError as error:
        print(f"xlmonitor: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(text("cli.afgebroken"), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
