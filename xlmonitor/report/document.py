"""The Monitor as a Word document: the sections the councils get, in the order of the
September 2021 monitor, from the figures of :mod:`xlmonitor.report.figures`.

Everything here only lays out what the figures say; every number is formatted by
:mod:`xlmonitor.report.text` (Dutch notation, rounded as the workbook shows it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time

from docx.shared import Cm

from xlmonitor.report import word
from xlmonitor.report.changes import Change
from xlmonitor.report.charts import WIDTH_CM, trend_chart
from xlmonitor.report.figures import NVT, ReportFigures
from xlmonitor.report.text import listing, long_date, number, percentage, signed

#: Status in the delivery table → light colour of its cell.
DELIVERY_COLOURS = {"ontvangen": "groen", "te laat": "oranje", "ontbreekt": "oranje",
                    "afgekeurd": "rood", "later": "n.v.t."}
#: Short column headers of the four figures (the indicator names are long for A4).
SHORT = {"Aanmeldingen": "Aanmel-dingen", "Gestarte trajecten": "Gestart",
         "Afgeronde scholing": "Scholing", "Bemiddeld naar werk": "Naar werk"}


@dataclass
class Contents:
    """Everything one report shows."""

    source: object                      # MasterSource
    figures: ReportFigures
    previous: ReportFigures | None      # two quarters earlier, if the master has it
    changes: list[Change]
    highlights: list[str]
    delivery: object                    # DataFrame Gemeente × quarter
    accounts: dict[str, int]
    reported: bool                      # any row in tblData for the peilperiode

    @property
    def day(self) -> date:
        """The date of the document: when the master's figures were consolidated."""
        return self.source.updated or self.figures.peildatum


def build_document(contents: Contents):
    """The report as a python-docx ``Document``."""
    from docx import Document

    document = Document()
    source, figures = contents.source, contents.figures
    word.set_up(document, f"Monitor {source.name} · peilperiode {figures.peilperiode} · "
                          f"stand {long_date(contents.day)}")
    properties = document.core_properties
    properties.title = f"Monitor {source.name} {figures.peilperiode}"
    properties.subject = f"{source.region}: voortgang arbeidsmarktprogramma's"
    properties.author = properties.last_modified_by = "xlmonitor"
    properties.comments = f"Gemaakt uit {source.path.name}"
    properties.keywords = "monitor, stoplichtmodel"
    properties.revision = 1
    # The day of the figures, not of the run: the same master gives the same document.
    properties.created = properties.modified = datetime.combine(contents.day, time())
    _title(document, contents)
    _objectives(document, contents)
    _dashboard(document, contents)
    _since(document, contents)
    _projects(document, contents)
    _municipalities(document, contents)
    _delivery(document, contents)
    _accountability(document, contents)
    return document


def _title(document, contents: Contents) -> None:
    source, figures = contents.source, contents.figures
    document.add_paragraph(f"Monitor {source.name}", style="Title")
    paragraph = document.add_paragraph()
    run = paragraph.add_run(f"{source.region} · peilperiode {figures.peilperiode} "
                            f"(peildatum {long_date(figures.peildatum)})")
    run.bold = True
    document.add_paragraph(
        f"Stand van de cijfers: {long_date(contents.day)}. Alle cijfers zijn cumulatief: "
        "opgeteld vanaf de start van het programma tot en met de peildatum. Ze komen uit de "
        f"master-werkmap {source.path.name} en zijn dezelfde als op het Dashboard van die "
        f"werkmap bij peilperiode {figures.peilperiode}.")
    if not contents.reported:
        warning = document.add_paragraph()
        warning.add_run(f"Let op: over {figures.peilperiode} zijn nog geen cijfers "
                        "aangeleverd; de stoplichten zijn daardoor te streng.").bold = True


def _objectives(document, contents: Contents) -> None:
    figures = contents.figures
    document.add_heading("1. Doelstellingen", level=1)
    document.add_paragraph(f"De doelen van het programma die op "
                           f"{long_date(figures.peildatum)} gelden, met hun bron:")
    rows = [[line.label, number(line.target),
             line.valid_from.strftime("%d-%m-%Y") if line.valid_from else "",
             line.source] for line in figures.kpi if line.target is not None]
    word.add_table(document, ["Indicator", "Doel", "Geldt vanaf", "Bron"], rows,
                   [4.2, 1.8, 2.4, 8.6], numeric=(1,))


def _dashboard(document, contents: Contents) -> None:
    figures, source = contents.figures, contents.source
    document.add_heading("2. Dashboard", level=1)
    rows, lights = [], {}
    for i, line in enumerate(figures.kpi):
        rows.append([line.label, number(line.realised), number(line.target),
                     number(line.expected), percentage(line.ratio), line.light])
        lights[(i, 5)] = line.light
    word.add_table(document, ["Indicator", "Gerealiseerd", "Doel", "Verwacht tot nu",
                              "Percentage", "Stoplicht"], rows,
                   [4.6, 2.4, 2.0, 2.8, 2.4, 2.8], numeric=(1, 2, 3, 4), lights=lights)
    word.note(document, f"Verwacht tot nu = doel × het deel van de looptijd van het programma "
                        f"({source.programme_start:%d-%m-%Y} t/m "
                        f"{source.programme_end:%d-%m-%Y}) dat op de peildatum verstreken "
                        f"is. Stoplicht: {threshold_text(source)}.")
    document.add_heading("Verloop per kwartaal", level=2)
    document.add_paragraph("Per indicator het gerealiseerde aantal (cumulatief, staven) tegen "
                           "wat op dat moment verwacht werd (lijn). De donkere staaf is de "
                           "peilperiode.")
    for label in figures.kpi_labels:
        picture = trend_chart(figures.trend, label, figures.peilperiode)
        document.add_picture(io.BytesIO(picture), width=Cm(WIDTH_CM))


def threshold_text(source) -> str:
    """``groen vanaf 80%, oranje vanaf 60%, daaronder rood`` from tblStoplicht."""
    table = source.table("tblStoplicht")
    parts = [f"{kleur} vanaf {percentage(float(vanaf))}"
             for kleur, vanaf in zip(table["Kleur"], table["Vanaf"], strict=True)
             if str(kleur) != "rood"]
    return f"{listing(parts)}, daaronder rood (van verwacht); {NVT}: geen doel of nog niet " \
           "gestart"


def _since(document, contents: Contents) -> None:
    document.add_heading("3. Sinds de vorige monitor", level=1)
    before = contents.previous
    if before is None:
        document.add_paragraph("Dit is de eerste monitor van het programma: er is geen "
                               "peilperiode twee kwartalen eerder om mee te vergelijken.")
        return
    now = contents.figures.peilperiode
    document.add_paragraph(f"De cijfers van {now} vergeleken met die van {before.peilperiode}, "
                           "twee kwartalen eerder (de vorige monitor).")
    rows, lights = [], {}
    for i, change in enumerate(contents.changes):
        rows.append([change.label, number(change.previous), number(change.now),
                     signed(change.difference), change.previous_light, change.light])
        lights[(i, 4)], lights[(i, 5)] = change.previous_light, change.light
    word.add_table(document, ["Indicator", before.peilperiode, now, "Verschil",
                              f"Stoplicht {before.peilperiode}", f"Stoplicht {now}"], rows,
                   [4.6, 2.2, 2.2, 2.0, 3.0, 3.0], numeric=(1, 2, 3), lights=lights)
    document.add_heading("Opvallend", level=2)
    for sentence in contents.highlights:
        document.add_paragraph(sentence, style="List Bullet")


def _projects(document, contents: Contents) -> None:
    figures = contents.figures
    document.add_heading("4. Voortgang per project volgens het stoplichtmodel", level=1)
    document.add_paragraph(
        "Per project de vier cijfers (cumulatief tot de peildatum) en het stoplicht op de "
        "stuurindicator van het project (vet): gerealiseerd tegen verwacht tot nu, naar de "
        "looptijd van het project.")
    rows, lights, bold = [], {}, []
    for i, project in enumerate(figures.projects):
        row = [project.name]
        for j, label in enumerate(figures.labels):
            row.append(number(project.figures[label]))
            if label == project.stuur:
                bold.append((i, 1 + j))
        row += [number(project.line.expected), percentage(project.line.ratio),
                project.line.light]
        lights[(i, len(row) - 1)] = project.line.light
        rows.append(row)
    headers = ["Project", *[SHORT.get(lab, lab) for lab in figures.labels], "Verwacht",
               "%", "Stoplicht"]
    figure_width = 1.55
    widths = [17.0 - figure_width * len(figures.labels) - 1.7 - 1.3 - 2.0,
              *[figure_width] * len(figures.labels), 1.7, 1.3, 2.0]
    word.add_table(document, headers, rows, widths,
                   numeric=tuple(range(1, len(figures.labels) + 3)), lights=lights,
                   bold_cells=bold)
    for project in figures.projects:
        _project(document, contents, project)


def _project(document, contents: Contents, project) -> None:
    period = contents.figures.peilperiode
    document.add_heading(project.name, level=2)
    paragraph = document.add_paragraph()
    paragraph.add_run("Stoplicht:")
    word.light_run(paragraph, project.line.light)
    line = project.line
    if project.stuur and line.target is not None:
        paragraph.add_run(f" {project.stuur}: {number(line.realised)} gerealiseerd, "
                          f"{number(line.expected)} verwacht tot nu "
                          f"({percentage(line.ratio)}); doel {number(line.target)}.")
    elif project.stuur:
        paragraph.add_run(f" {project.stuur}: {number(line.realised)} gerealiseerd; geen doel "
                          "op de peildatum (nog niet gestart).")
    else:
        paragraph.add_run(" het project heeft geen stuurindicator.")
    _project_since(document, contents, project)
    if project.hand_light:
        own = document.add_paragraph()
        own.add_run("Stoplicht volgens het regioteam:")
        word.light_run(own, project.hand_light)
        if project.reason:
            own.add_run(f" {project.reason}")
    if project.text:
        for part in project.text.splitlines():
            if part.strip():
                document.add_paragraph(part.strip())
        return
    pending = document.add_paragraph()
    pending.add_run("Toelichting nog te schrijven").bold = True
    pending.add_run(f" (blad Toelichting van de master, peilperiode {period}).")
    if project.remarks:
        document.add_paragraph(f"Opmerkingen van de gemeenten over {period}:")
        for gemeente, remark in project.remarks:
            document.add_paragraph(f"{gemeente}: {remark}", style="List Bullet")
    else:
        word.note(document, f"Geen opmerkingen van de gemeenten over {period}.")


def _project_since(document, contents: Contents, project) -> None:
    """"Sinds <two quarters earlier>": the change of the steering figure and the light then."""
    before = contents.previous
    was = next((p for p in before.projects if p.code == project.code), None) if before else None
    if was is None or not project.stuur:
        return
    paragraph = document.add_paragraph(
        f"Sinds {before.peilperiode}: {signed(project.line.realised - was.line.realised)} "
        f"{project.stuur.lower()}; het stoplicht was toen")
    word.light_run(paragraph, was.line.light)


def _municipalities(document, contents: Contents) -> None:
    figures = contents.figures
    document.add_heading("5. Resultaten per gemeente", level=1)
    document.add_paragraph(f"Cumulatief tot en met {long_date(figures.peildatum)}, met het "
                           "aantal kwartalen waarover de gemeente cijfers leverde.")
    frame = figures.municipalities
    rows = [[str(name), *[number(frame.at[name, lab]) for lab in figures.labels],
             number(frame.at[name, "Kwartalen geleverd"])] for name in frame.index]
    rows.append(["Totaal", *[number(frame[lab].sum()) for lab in figures.labels], ""])
    headers = ["Gemeente", *figures.labels, "Kwartalen geleverd"]
    width = 2.3
    word.add_table(document, headers, rows,
                   [17.0 - width * (len(figures.labels) + 1), *[width] * (len(headers) - 1)],
                   numeric=tuple(range(1, len(headers))), bold_rows=(len(rows) - 1,))


def _delivery(document, contents: Contents) -> None:
    frame = contents.delivery
    document.add_heading("6. Aanlevering", level=1)
    document.add_paragraph("Welke gemeente welk kwartaal aanleverde (de laatste kwartalen tot "
                           "en met de peilperiode; eerdere staan op het blad Inzendingen). "
                           "ontvangen: op tijd verwerkt · te laat: verwerkt, na de "
                           "termijn · afgekeurd: fouten, niet verwerkt · ontbreekt: niet "
                           "ontvangen.")
    rows, lights = [], {}
    for i, (town, statuses) in enumerate(frame.iterrows()):
        rows.append([str(town), *[str(s) for s in statuses]])
        for j, status in enumerate(statuses, start=1):
            lights[(i, j)] = DELIVERY_COLOURS.get(str(status), NVT)
    quarters = [str(c) for c in frame.columns]
    width = min(2.3, 13.0 / max(len(quarters), 1))
    word.add_table(document, ["Gemeente", *quarters], rows,
                   [17.0 - width * len(quarters), *[width] * len(quarters)], lights=lights)
    missing = [f"{town} ({quarter})" for town, statuses in frame.iterrows()
               for quarter, status in statuses.items() if status == "ontbreekt"]
    document.add_paragraph("Alle gemeenten hebben deze kwartalen aangeleverd." if not missing
                           else f"Ontbreekt nog: {listing(missing)}.")


def _accountability(document, contents: Contents) -> None:
    source, accounts = contents.source, contents.accounts
    document.add_heading("7. Verantwoording", level=1)
    statuses = [f"{accounts[k]} {k}" for k in ("ontvangen", "afgekeurd", "vervangen", "dubbel",
                                               "vergrendeld", "in aanvoer") if accounts.get(k)]
    updated = source.status.removeprefix("Bijgewerkt: ").split(" · ")[0]
    sentences = [
        f"Bron: de master-werkmap {source.path.name}, bijgewerkt {updated}. De gemeenten "
        "leveren hun cijfers per kwartaal aan; xlmonitor controleert en bundelt ze.",
        f"Bestanden in de inbox: {accounts['bestanden']} ({', '.join(statuses) or 'geen'}). "
        "Alleen ontvangen bestanden tellen mee; van een gemeente en kwartaal telt het "
        "nieuwste goede bestand.",
        f"Bij de controle: {accounts['fouten']} fout(en) en {accounts['waarschuwingen']} "
        "waarschuwing(en); een bestand met een fout telt niet mee tot de gemeente het "
        "verbetert (blad Validatie van de master).",
        "Verwacht tot nu: het doel dat op de peildatum geldt × het deel van de looptijd dat "
        "dan verstreken is; voor het programma de looptijd van het programma, voor een "
        "project die van het project (blad Doelen).",
        f"Stoplicht: gerealiseerd gedeeld door verwacht tot nu; {threshold_text(source)}. "
        "Een stoplicht van het regioteam staat, met de reden, naast het berekende.",
        "Toelichting per project: geschreven door het regioteam (blad Toelichting). Waar die "
        "nog ontbreekt staan de opmerkingen van de gemeenten, met persoonsgegevens "
        "afgeschermd.",
    ]
    for sentence in sentences:
        document.add_paragraph(sentence, style="List Bullet")
