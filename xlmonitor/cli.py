"""Command line: a thin layer over the library. Dutch for users; exit codes:
0 all good · 1 done, but findings or rejected files · 2 usage · 3 could not write."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from xlmonitor._version import __version__
from xlmonitor.errors import UsageError, XlmonitorError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_WRITE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one Dutch line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"Ongeldige invoer: {message}. Zie 'xlmonitor --help'.")


def _programme(args):
    from xlmonitor.programme.definition import load_programme

    return load_programme(args.programma)


def cmd_template(args) -> int:
    from xlmonitor.periods import parse_period
    from xlmonitor.template.standard import build_template, build_templates, template_file_name

    programme = _programme(args)
    period = parse_period(args.periode)
    if period is None:
        raise UsageError(f"Ongeldige periode '{args.periode}'. Schrijf een kwartaal als 2021-Q3.")
    if args.gemeente:
        municipality = programme.municipality(args.gemeente) or args.gemeente
        output = Path(args.output or template_file_name(municipality, period))
        path = build_template(programme, municipality, period, output)
        print(f"Sjabloon geschreven: {path}")
    else:
        paths = build_templates(programme, period, Path(args.output or "."))
        for path in paths:
            print(f"Sjabloon geschreven: {path}")
    return EXIT_OK


def cmd_validate(args) -> int:
    from xlmonitor.findings import group_findings
    from xlmonitor.intake.read import read_submission
    from xlmonitor.validation.checks import validate_submission

    programme = _programme(args)
    results = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"Bestand '{name}' bestaat niet.")
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
            shown = group_findings(result.findings)
            errors = sum(f.is_error for f in shown)
            warnings = len(shown) - errors
            verdict = "afgekeurd" if errors else "goedgekeurd"
            print(f"{shown_file_name(result.submission.name)}: {verdict} ({errors} fout(en), "
                  f"{warnings} waarschuwing(en))")
            for f in shown:
                print(f"  - [{f.severity}] {f.message}")
    return EXIT_FINDINGS if any(f.is_error for f in findings) else EXIT_OK


def _run_settings(args):
    from xlmonitor.run.settings import resolve_settings

    return resolve_settings(
        settings_file=getattr(args, "instellingen", None), inbox=args.inbox, master=args.output,
        feedback=getattr(args, "feedback", None), programme=args.programma,
        peilperiode=getattr(args, "peilperiode", None), lock_wait=getattr(args, "wacht", None),
        log=getattr(args, "log", None), jobs=getattr(args, "jobs", None),
        cache=_cache_option(args))


def cmd_consolidate(args) -> int:
    from xlmonitor.run.schedule import run_consolidation

    settings = _run_settings(args)
    result = run_consolidation(settings, echo=None if args.quiet or args.json else print)
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    elif not args.quiet:
        print("\n".join(result.report_lines()))
    if result.feedback_failed:
        print(f"xlmonitor: terugkoppeling voor {len(result.feedback_failed)} bestand(en) niet "
              f"geschreven; zie {settings.log}", file=sys.stderr)
    return result.exit_code


def cmd_schedule(args) -> int:
    from xlmonitor.run.schedule import schedule_commands

    commands = schedule_commands(_run_settings(args), at=args.tijd)
    if args.print:  # the bare line for this system, to pipe: (crontab -l; … --print) | crontab -
        windows = os.name == "nt"
        if windows and commands["cmd_bestand"] in commands["schtasks"]:
            print(f"Sla eerst dit bestand op als {commands['cmd_bestand']}:\n"
                  f"{commands['cmd']}", file=sys.stderr)
        print(commands["schtasks"] if windows else commands["cron"])
        return EXIT_OK
    if commands["cmd_bestand"] in commands["schtasks"]:
        print(f"Sla eerst dit bestand op als {commands['cmd_bestand']}:\n")
        print(commands["cmd"].replace("\r\n", "\n"))
    print("Windows Taakplanner (opdrachtprompt als beheerder):")
    print(f"  {commands['schtasks']}\n")
    print("cron (crontab -e):")
    print(f"  {commands['cron']}\n")
    print(commands["toelichting"])
    return EXIT_OK


def cmd_watch(args) -> int:
    from xlmonitor.run.schedule import watch

    if args.interval <= 0:
        raise UsageError("Ongeldige invoer: --interval moet meer dan 0 seconden zijn.")
    settings = _run_settings(args)
    settings.check()
    echo = None if args.quiet else print
    if echo:
        echo(f"Bewaakt {settings.inbox} (elke {args.interval:g} s); consolideert zodra nieuwe "
             f"bestanden {settings.settle:g} s onveranderd zijn. Stoppen met Ctrl+C.")
    try:
        watch(settings, interval=args.interval, echo=echo)
    except KeyboardInterrupt:
        if echo:
            echo("Gestopt.")
    return EXIT_OK


def cmd_export(args) -> int:
    from xlmonitor.export.outputs import export_dashboard, export_tables, resolve_peilperiode

    if not (args.pdf or args.png or args.csv or args.parquet):
        raise UsageError("Ongeldige invoer: kies minstens een van --pdf, --png, --csv of "
                         "--parquet. Zie 'xlmonitor export --help'.")
    if args.peilperiode and not (args.pdf or args.png):
        raise UsageError("Ongeldige invoer: --peilperiode geldt voor --pdf en --png; de "
                         "tabellen worden altijd volledig geschreven.")
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
        print(f"Geschreven: {path}")
    return EXIT_OK


def cmd_rapport(args) -> int:
    from xlmonitor.report.monitor import write_report

    written = write_report(args.master, Path(args.output), peilperiode=args.peilperiode,
                           pdf=Path(args.pdf) if args.pdf else None)
    print(f"Geschreven: {written}")
    if args.pdf:
        print(f"Geschreven: {args.pdf}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from xlmonitor.demo import run_demo

    run_demo(Path(args.map), programme=_programme(args), echo=print)
    return EXIT_OK


def cmd_server(args) -> int:
    from xlmonitor.server import serve

    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise UsageError("Ongeldige invoer: geef --ssl-certfile en --ssl-keyfile allebei op.")
    serve(Path.cwd(), host=args.host, port=args.port, settings_file=args.instellingen,
          ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    return EXIT_OK


def cmd_build_workbooks(args) -> int:
    from xlmonitor.build import build_workbooks

    for path in build_workbooks(Path(args.map)):
        print(f"Gebouwd: {path}")
    return EXIT_OK


def _run_arguments(p: argparse.ArgumentParser) -> None:
    """Options of an unattended run; they override xlmonitor.toml next to the master."""
    p.add_argument("inbox", nargs="?", metavar="INBOX", help="map met de inzendingen")
    p.add_argument("-o", "--output", metavar="MASTER", help="de master-werkmap (.xlsx of .xlsm)")
    p.add_argument("--feedback", metavar="MAP", help="schrijf .controle.xlsx-kopieën in MAP")
    p.add_argument("--log", metavar="BESTAND",
                   help="logbestand (standaard xlmonitor.log naast de master)")
    p.add_argument("--wacht", type=float, metavar="SECONDEN",
                   help="hoe lang te wachten als er al een consolidatie loopt (standaard 120)")
    p.add_argument("--instellingen", metavar="BESTAND",
                   help="instellingenbestand (standaard xlmonitor.toml naast de master)")
    p.add_argument("--jobs", "--taken", type=_positive_int, metavar="N",
                   help="lees N bestanden tegelijk, elk in een eigen proces (standaard: het "
                        "aantal processorkernen)")
    p.add_argument("--cache", action="store_true",
                   help="bewaar ingelezen bestanden in .xlmonitor-cache naast de master, zodat "
                        "een volgende keer alleen nieuwe en gewijzigde bestanden worden gelezen")
    p.add_argument("--cache-map", metavar="MAP", help="zoals --cache, in MAP")
    p.add_argument("--geen-cache", action="store_true",
                   help="lees alle bestanden opnieuw en bewaar niets in de cache")


def _cache_option(args) -> Path | bool | None:
    """--geen-cache, --cache-map MAP, --cache; None: as xlmonitor.toml says."""
    if getattr(args, "geen_cache", False):
        return False
    if getattr(args, "cache_map", None):
        return Path(args.cache_map)
    return True if getattr(args, "cache", False) else None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is geen geheel getal van minstens 1")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is geen poortnummer (1 tot 65535)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xlmonitor", description=(
        "Controleert de kwartaalwerkmappen van gemeenten en voegt ze samen tot de monitor "
        "Werken aan Werk en Perspectief op Werk."))
    parser.add_argument("--programma", metavar="BESTAND",
                        help="programmabestand (standaard: het meegeleverde programma.xlsx)")
    parser.add_argument("--version", action="version", version=f"xlmonitor {__version__}",
                        help="toon de versie van xlmonitor")
    commands = parser.add_subparsers(dest="command", metavar="OPDRACHT", parser_class=_Parser)

    p = commands.add_parser("validate", help="controleer werkmappen en toon de bevindingen")
    p.add_argument("files", nargs="+", metavar="BESTAND")
    p.add_argument("--json", action="store_true", help="bevindingen als JSON")
    p.add_argument("--feedback", metavar="MAP", help="schrijf .controle.xlsx-kopieën in MAP")
    p.set_defaults(func=cmd_validate)

    p = commands.add_parser("consolidate", help="voeg de inbox samen tot de master-werkmap")
    _run_arguments(p)
    p.add_argument("--peilperiode", metavar="KWARTAAL", help="bijvoorbeeld 2021-Q3")
    p.add_argument("--json", action="store_true", help="samenvatting als JSON")
    p.add_argument("--quiet", action="store_true",
                   help="niets op het scherm behalve fouten (voor de Taakplanner of cron)")
    p.set_defaults(func=cmd_consolidate)

    p = commands.add_parser(
        "schedule", help="toon de opdracht om elke nacht te consolideren (Taakplanner, cron)")
    _run_arguments(p)
    p.add_argument("--print", action="store_true",
                   help="alleen de regel voor dit systeem (cron, of schtasks op Windows), "
                        "zonder uitleg, om door te geven: (crontab -l; xlmonitor schedule "
                        "--print) | crontab -")
    p.add_argument("--tijd", default="02:00", metavar="UU:MM", help="tijdstip, standaard 02:00")
    p.set_defaults(func=cmd_schedule)

    p = commands.add_parser(
        "watch", help="bewaak de inbox en consolideer zodra nieuwe bestanden binnen zijn")
    _run_arguments(p)
    p.add_argument("--peilperiode", metavar="KWARTAAL", help="bijvoorbeeld 2021-Q3")
    p.add_argument("--interval", type=float, default=10.0, metavar="SECONDEN",
                   help="hoe vaak de inbox wordt bekeken, standaard 10 seconden")
    p.add_argument("--quiet", action="store_true", help="niets op het scherm behalve fouten")
    p.set_defaults(func=cmd_watch)

    p = commands.add_parser("template", help="maak het standaardsjabloon voor een kwartaal")
    p.add_argument("--gemeente", help="gemeente (zonder: voor alle gemeenten)")
    p.add_argument("--periode", required=True, help="kwartaal, bijvoorbeeld 2021-Q3")
    p.add_argument("-o", "--output", help="bestand (met --gemeente) of map")
    p.set_defaults(func=cmd_template)

    p = commands.add_parser(
        "export", help="Dashboard als PDF/PNG voor de raadsbrief; tabellen als CSV/Parquet")
    p.add_argument("master", metavar="MASTER", help="de master-werkmap (.xlsx of .xlsm)")
    p.add_argument("--pdf", metavar="BESTAND", help="Dashboard als PDF (één pagina, liggend A4)")
    p.add_argument("--png", metavar="BESTAND", help="Dashboard als afbeelding (PNG)")
    p.add_argument("--peilperiode", metavar="KWARTAAL",
                   help="Dashboard op dit kwartaal, bijvoorbeeld 2021-Q3 (standaard: zoals "
                        "opgeslagen in de master)")
    p.add_argument("--dpi", type=int, default=150, metavar="N",
                   help="resolutie van de PNG, standaard 150")
    p.add_argument("--csv", metavar="MAP",
                   help="schrijf data.csv, inzendingen.csv en bevindingen.csv in MAP")
    p.add_argument("--parquet", metavar="MAP",
                   help="dezelfde tabellen als Parquet (vraagt pyarrow: xlmonitor[export])")
    p.set_defaults(func=cmd_export)

    p = commands.add_parser(
        "rapport", help="de halfjaarlijkse Monitor voor de gemeenteraden (Word, en PDF)")
    p.add_argument("master", metavar="MASTER", help="de master-werkmap (.xlsx of .xlsm)")
    p.add_argument("--peilperiode", metavar="KWARTAAL",
                   help="kwartaal van de monitor, bijvoorbeeld 2021-Q4 (standaard: de "
                        "peilperiode op het Dashboard van de master)")
    p.add_argument("-o", "--output", required=True, metavar="BESTAND",
                   help="het rapport als Word-document (.docx)")
    p.add_argument("--pdf", metavar="BESTAND",
                   help="ook als PDF voor de website (vraagt LibreOffice)")
    p.set_defaults(func=cmd_rapport)

    p = commands.add_parser("demo", help="bouw de demo: inbox van zeven gemeenten en de master")
    p.add_argument("map", nargs="?", default="xlmonitor-demo", metavar="MAP")
    p.set_defaults(func=cmd_demo)

    p = commands.add_parser(
        "server", help="start de server voor de knop Consolideer op pc's zonder Python "
                       "(in de map van de master)")
    p.add_argument("--host", default="127.0.0.1",
                   help="adres om op te luisteren, standaard 127.0.0.1 (alleen deze computer)")
    p.add_argument("--port", type=_port, default=8765, help="poort, standaard 8765")
    p.add_argument("--instellingen", metavar="BESTAND",
                   help="instellingenbestand (standaard xlmonitor.toml in de huidige map)")
    p.add_argument("--ssl-certfile", metavar="BESTAND", help="certificaat (PEM) voor https")
    p.add_argument("--ssl-keyfile", metavar="BESTAND", help="sleutel (PEM) bij het certificaat")
    p.set_defaults(func=cmd_server)

    p = commands.add_parser("build-workbooks",
                            help="bouw de meegeleverde werkmappen (ontwikkelaars)")
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
                raise UsageError(f"Ongeldige peilperiode '{args.peilperiode}'. "
                                 "Schrijf een kwartaal als 2021-Q3.")
            args.peilperiode = period
        return args.func(args)
    except XlmonitorError as error:
        print(f"xlmonitor: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("xlmonitor: afgebroken.", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
