"""The default programme, as the seed documents describe it.

These tables are the source of ``workbooks/programma.xlsx`` (built by
``xlmonitor build-workbooks``); staff then edit that workbook, not this file. Sources:
``S1`` = monitor September 2021, ``S0`` = letter January 2022, ``S3`` = letter 2022,
``S2`` = news item May 2021. Where the letters give no number, the target is a documented
assumption (``aanname``) for the analyst to correct in the workbook.
"""

from __future__ import annotations

from datetime import date

PROGRAMME = {
    "naam": "Werken aan Werk en Perspectief op Werk",
    "regio": "Regio Gooi en Vechtstreek",
    # S3: "begin 2020 gestart"; S0/S2: "lopen tot en met eind 2023".
    "start": date(2020, 1, 1),
    "eind": date(2023, 12, 31),
    "eerste_periode": "2020-Q3",
    # Days after the end of a quarter a submission counts as on time (aanname).
    "termijn_dagen": 42,
    # The most one municipality can report for one project and indicator in one quarter
    # (aanname). The letters' targets for the whole programme over four years are 1180
    # started, 860 trained and 520 placed (S1): above 10,000 a count is a typo, an amount or
    # a number pasted into the wrong cell, never a quarter's work; validate rejects it
    # (onwaarschijnlijk-hoog). Generous on purpose, because it blocks the file.
    "max_aantal_per_kwartaal": 10_000,
    # Shown in the template's instructions.
    "inlevermap": "'inbox' van de monitor op de regionale gedeelde schijf (S:)",
    "contact": "het programmateam Economie & Werk van de Regio Gooi en Vechtstreek",
}

INDICATORS = [
    # code, label, omschrijving, kpi (programme target), volgorde
    ("aanmeldingen", "Aanmeldingen", "Inwoners die zich in het kwartaal aanmeldden", "nee", 1),
    ("gestarte_trajecten", "Gestarte trajecten", "Trajecten gestart in het kwartaal", "ja", 2),
    ("afgeronde_scholing", "Afgeronde scholing",
     "Scholings- en begeleidingstrajecten afgerond in het kwartaal", "ja", 3),
    ("bemiddeld_naar_werk", "Bemiddeld naar werk",
     "Inwoners bemiddeld naar betaald werk in het kwartaal", "ja", 4),
]

MUNICIPALITIES = [
    ("Blaricum", "GM0376"),
    ("Eemnes", "GM0317"),
    ("Gooise Meren", "GM1942"),
    ("Hilversum", "GM0402"),
    ("Huizen", "GM0406"),
    ("Laren", "GM0417"),
    ("Wijdemeren", "GM1696"),
]

# code, naam, programma, sector, start, eind, status, stuurindicator, aliassen
PROJECTS = [
    ("ZORGSTART", "ZorgStart", "Werken aan Werk", "Zorg", date(2021, 2, 1), date(2023, 1, 31),
     "loopt", "bemiddeld_naar_werk", "Zorgstart; Zorg Start; ZS"),  # S1: 1 feb 2021, 2 jaar
    ("WIJKLEER", "Wijkleerbedrijf", "Perspectief op Werk", "Zorg", date(2020, 8, 1),
     date(2023, 7, 31), "loopt", "afgeronde_scholing",
     "Wijk Leerbedrijf; WijkLeerbedrijf; WLB"),  # S1: groepen aug 2020, feb en aug 2021
    ("HOUT", "Hout", "Werken aan Werk", "Circulair", date(2021, 5, 17), date(2023, 5, 16),
     "loopt", "bemiddeld_naar_werk", "Project Hout; Tomin hout"),  # S1: 17 mei 2021, 2 jaar
    ("WAARDETAS", "Waardetas", "Werken aan Werk", "Circulair", date(2021, 5, 1),
     date(2023, 4, 30), "loopt", "bemiddeld_naar_werk", "Waarde tas"),  # S1: 1 mei, 2 jaar
    ("AI", "Artificial Intelligence", "Werken aan Werk", "Media en ICT", date(2021, 3, 1),
     date(2023, 2, 28), "loopt", "bemiddeld_naar_werk",
     "AI-project (annoteren); AI project; Ontwikkeltraject Artificial Intelligence; AI"),
    ("JONGEREN", "Accountmanager Jongeren", "Werken aan Werk", "Jongeren", date(2021, 4, 1),
     date(2023, 12, 31), "loopt", "bemiddeld_naar_werk",
     "Jongeren accountmanager; Jongerenspecialist; Accountmanager specialist jongeren; "
     "Jongeren"),  # S1: per 1 april, 45 per jaar
    ("ENERGIE", "Energietransitie", "Werken aan Werk", "Techniek", date(2022, 1, 1),
     date(2023, 12, 31), "loopt", "gestarte_trajecten", "Energie transitie"),
    ("GVWD", "Gooi en Vechtstreek werkt door", "Werken aan Werk", "Werkgeversdienstverlening",
     date(2020, 7, 1), date(2023, 12, 31), "bijgesteld", "bemiddeld_naar_werk",
     "GV werkt door; G&V werkt door; GenV werkt door"),
    ("GGZ", "Gezamenlijke aanpak GGZ", "Perspectief op Werk", "Zorg", date(2020, 1, 1),
     date(2022, 12, 31), "loopt", "gestarte_trajecten", "GGZ / IPS; GGZ; IPS; GGZ-IPS"),
    ("TAAL", "Taalvaardigheid als opstap naar werk", "Perspectief op Werk", "Taal",
     date(2021, 1, 1), date(2022, 6, 30), "gestopt", "gestarte_trajecten",
     "Taaltrajecten; Taalvaardigheid; Taal"),  # S3: voortijdig beëindigd
    ("LOKAAL", "Lokaal budget voor scholing en begeleiding", "Werken aan Werk", "Scholing",
     date(2021, 1, 1), date(2023, 12, 31), "loopt", "afgeronde_scholing",
     "Lokaal budget; Lokale scholing"),  # S1: uitstroom 159, scholing 483
    ("KANSRIJK", "Werkgelegenheidsprojecten in kansrijke sectoren", "Werken aan Werk",
     "Bouw, transport en horeca", date(2021, 1, 1), date(2023, 12, 31), "loopt",
     "gestarte_trajecten", "Kansrijke sectoren; Werkgelegenheidsprojecten"),
    ("SCHOLINGSMAKELAAR", "Pilot scholingsmakelaar", "Perspectief op Werk", "Scholing",
     date(2021, 6, 1), date(2023, 12, 31), "loopt", "", "Scholingsmakelaar; Leerwerkloket"),
    ("WSP", "Versterking capaciteit Werkgeversservicepunt", "Werken aan Werk",
     "Werkgeversdienstverlening", date(2020, 1, 1), date(2023, 12, 31), "loopt", "",
     "Werkgeversservicepunt; WSP"),
    ("SCHOONHUIS", "Meer werk voor huishoudelijke hulpen: Schoonhuis continueren",
     "Werken aan Werk", "Schoonmaak", date(2020, 1, 1), date(2021, 6, 30), "afgerond", "",
     "Schoonhuis"),
]

# project ("" = whole programme), indicator, doel, geldig_vanaf, bron
TARGETS = [
    ("", "gestarte_trajecten", 1180, date(2020, 1, 1), "S1: aantal trajecten 1180"),
    ("", "afgeronde_scholing", 860, date(2020, 1, 1), "S1: scholing- en begeleidingstrajecten 860"),
    ("", "bemiddeld_naar_werk", 520, date(2020, 1, 1), "S1: inwoners bemiddeld naar werk 520"),
    ("", "gestarte_trajecten", 1200, date(2022, 1, 1), "S0/S3: 1200 trajecten"),
    ("", "afgeronde_scholing", 800, date(2022, 1, 1), "S3: 800 afgeronde scholingstrajecten"),
    ("", "bemiddeld_naar_werk", 500, date(2022, 1, 1), "S3: 500 inwoners bemiddeld naar werk"),
    ("ZORGSTART", "bemiddeld_naar_werk", 250, date(2021, 2, 1), "S1: 250 inwoners in twee jaar"),
    ("ZORGSTART", "gestarte_trajecten", 300, date(2021, 2, 1), "aanname"),
    ("WIJKLEER", "gestarte_trajecten", 60, date(2020, 8, 1), "S1: 3 groepen van 15 tot 20"),
    ("WIJKLEER", "afgeronde_scholing", 45, date(2020, 8, 1), "aanname: 3 groepen, diploma"),
    ("HOUT", "bemiddeld_naar_werk", 40, date(2021, 5, 17), "S1: 40 inwoners in twee jaar"),
    ("WAARDETAS", "bemiddeld_naar_werk", 40, date(2021, 5, 1), "S1: 40 inwoners in twee jaar"),
    ("AI", "bemiddeld_naar_werk", 20, date(2021, 3, 1), "aanname: 10 doorstroombanen per jaar"),
    ("JONGEREN", "bemiddeld_naar_werk", 120, date(2021, 4, 1), "S1: 45 per jaar"),
    ("ENERGIE", "gestarte_trajecten", 40, date(2022, 1, 1), "aanname"),
    ("GVWD", "bemiddeld_naar_werk", 60, date(2020, 7, 1), "aanname"),
    ("GGZ", "gestarte_trajecten", 24, date(2020, 1, 1), "S1: minimaal 12 per jaar"),
    ("TAAL", "gestarte_trajecten", 250, date(2021, 1, 1), "S1: circa 125 taaltrajecten per jaar"),
    ("LOKAAL", "afgeronde_scholing", 483, date(2021, 1, 1), "S1: (om)scholingstrajecten 483"),
    ("LOKAAL", "bemiddeld_naar_werk", 159, date(2021, 1, 1), "S1: beoogde uitstroom 159"),
    ("KANSRIJK", "gestarte_trajecten", 60, date(2021, 1, 1), "aanname: zes projecten"),
]

# kleur, vanaf (realised ÷ expected-to-date, as a fraction), betekenis. A straight-line
# expectation is strict while a project ramps up: S1 calls ZorgStart's 43 placements by Q2
# 2021 "volgens doel" at 84% of the straight line, hence green from 80%.
THRESHOLDS = [
    ("groen", 0.8, "op koers"),
    ("oranje", 0.6, "let op: loopt achter"),
    ("rood", 0.0, "loopt duidelijk achter"),
]

# code, omschrijving, links, operator, rechts, ernst, ontbrekend, niveau, melding
RULES = [
    ("werk-niet-meer-dan-gestart", "Bemiddeld naar werk is niet meer dan gestarte trajecten",
     "bemiddeld_naar_werk", "<=", "gestarte_trajecten", "waarschuwing",
     "SKIP_IF_ANY_VALUE_MISSING", "cumulatief",
     "meer inwoners bemiddeld naar werk dan trajecten gestart (opgeteld tot en met dit kwartaal)"),
    ("gestart-niet-meer-dan-aanmeldingen", "Gestarte trajecten zijn niet meer dan aanmeldingen",
     "gestarte_trajecten", "<=", "aanmeldingen", "waarschuwing", "SKIP_IF_ANY_VALUE_MISSING",
     "cumulatief",
     "meer trajecten gestart dan inwoners aangemeld (opgeteld tot en met dit kwartaal)"),
    ("scholing-niet-meer-dan-gestart", "Afgeronde scholing is niet meer dan gestarte trajecten",
     "afgeronde_scholing", "<=", "gestarte_trajecten", "waarschuwing",
     "SKIP_IF_ANY_VALUE_MISSING", "cumulatief",
     "meer scholing afgerond dan trajecten gestart (opgeteld tot en met dit kwartaal)"),
]

# periode, vergrendeld_op, reden: submissions for the period dated after vergrendeld_op no
# longer change it (finding periode-vergrendeld); earlier ones count as usual.
LOCKED = [
    ("2020-Q3", date(2021, 5, 1), "vastgesteld in de monitor van mei 2021"),
    ("2020-Q4", date(2021, 5, 1), "vastgesteld in de monitor van mei 2021"),
]
