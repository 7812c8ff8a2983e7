"""The programme workbook's declarations: its sheets and columns (:data:`SHEETS`), the codes
and settings other stages rely on, and a pandera schema per sheet (:data:`SCHEMAS`).

The schemas are the contract with staff who edit ``workbooks/programma.xlsx``, so what a
problem is called is declared here too, in Dutch: a field's ``description`` says what belongs
in the column (:mod:`.check` adds it to every problem there), and a dataframe check's
``error`` is ``<column>: <message>``, the column naming the cell the problem is shown at and
the message a template over the row's values (``{eind}``, ``{start}``) and cells
(``{cel_start}``).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

INDICATOR_CODES = ("aanmeldingen", "gestarte_trajecten", "afgeronde_scholing",
                   "bemiddeld_naar_werk")
INDICATOR_LABELS = {
    "aanmeldingen": "Aanmeldingen",
    "gestarte_trajecten": "Gestarte trajecten",
    "afgeronde_scholing": "Afgeronde scholing",
    "bemiddeld_naar_werk": "Bemiddeld naar werk",
}
STATUSES = ("loopt", "bijgesteld", "gestopt", "afgerond", "on hold", "in voorbereiding")
MISSING_VALUE_STRATEGIES = ("SKIP_IF_ANY_VALUE_MISSING", "SKIP_IF_ALL_VALUES_MISSING",
                            "NEVER_SKIP")
OPERATORS = ("<=", "<", ">=", ">", "==", "!=")
TEMPLATE_VERSION = "1.0"
#: Setting on the sheet Programma: the most one count (one municipality, project, indicator
#: and quarter) may plausibly be; above it validate reports ``onwaarschijnlijk-hoog``.
MAX_COUNT_SETTING = "max_aantal_per_kwartaal"
#: Its value when a programme workbook has no such row (workbooks made before it existed).
DEFAULT_MAX_COUNT = 10_000

#: The settings on the sheet Programma (instelling → what it does). Another name is refused:
#: a mistyped setting would otherwise be ignored without a word.
SETTINGS: dict[str, str] = {
    "naam": "naam van het programma (titel van Dashboard, sjabloon en rapport)",
    "regio": "naam van de regio",
    "start": "eerste dag van het programma",
    "eind": "laatste dag van het programma",
    "eerste_periode": "eerste kwartaal waarover gemeenten rapporteren, zoals 2020-Q3",
    "termijn_dagen": "dagen na een kwartaal waarbinnen een bestand op tijd is",
    MAX_COUNT_SETTING: "hoogste aannemelijke aantal per project, indicator en kwartaal",
    "inlevermap": "waar gemeenten hun bestand neerzetten (staat in het sjabloon)",
    "contact": "bij wie gemeenten terechtkunnen met vragen (staat in het sjabloon)",
}

#: What staff may change in programma.xlsx and what not (docs/architecture.md, "The programme
#: workbook"). Everything is editable (and every stage follows it: template, validation,
#: master, dashboard, report) except the names other programs rely on: the sheet and column
#: names (:data:`SHEETS`), the setting names (:data:`SETTINGS`), the indicator codes and
#: their labels (the labels are tblData's column names, which Power Query, Power BI and the
#: dashboard formulas read) and the three traffic-light colours. Those are refused in Dutch
#: at the cell.
FIXED_LABELS = INDICATOR_LABELS

# Sheet name → ordered columns. The workbook is the contract with staff: Dutch names.
SHEETS: dict[str, list[str]] = {
    "Programma": ["instelling", "waarde"],
    "Projecten": ["code", "naam", "programma", "sector", "start", "eind", "status",
                  "stuurindicator", "aliassen"],
    "Indicatoren": ["code", "label", "omschrijving", "kpi", "volgorde"],
    "Doelstellingen": ["project", "indicator", "doel", "geldig_vanaf", "bron"],
    "Gemeenten": ["naam", "cbs_code"],
    "Stoplicht": ["kleur", "vanaf", "betekenis"],
    "Regels": ["code", "omschrijving", "links", "operator", "rechts", "ernst", "ontbrekend",
               "niveau", "melding"],
    "Vergrendeld": ["periode", "vergrendeld_op", "reden"],
}


def _text(nullable: bool = False, **checks) -> object:
    return pa.Field(nullable=nullable, coerce=True, **checks)


_DATE = "een datum, zoals 1-2-2021"


class ProjectenSchema(pa.DataFrameModel):
    code: str = _text(str_matches=r"^[A-Z0-9][A-Z0-9_-]*$", unique=True,
                      description="een projectcode: hoofdletters, cijfers, - en _, zonder "
                                  "spaties (zoals ZORGSTART)")
    naam: str = _text(unique=True, description="de naam van het project")
    programma: str = _text(description="het programma waar het project onder valt")
    sector: str = _text(nullable=True)
    start: pa.DateTime = pa.Field(coerce=True, description=_DATE)
    eind: pa.DateTime = pa.Field(coerce=True, description=_DATE)
    status: str = _text(isin=list(STATUSES))
    stuurindicator: str = _text(nullable=True, isin=[*INDICATOR_CODES, ""])
    aliassen: str = _text(nullable=True)

    @pa.dataframe_check(error="eind: de einddatum {eind} ligt voor de startdatum {start} "
                              "(cel {cel_start})")
    @classmethod
    def end_after_start(cls, df: pd.DataFrame) -> pd.Series:
        return df["eind"] >= df["start"]


class IndicatorenSchema(pa.DataFrameModel):
    code: str = _text(isin=list(INDICATOR_CODES), unique=True)
    label: str = _text(description="de naam van de indicator op het dashboard")
    omschrijving: str = _text(nullable=True)
    kpi: str = _text(isin=["ja", "nee"])
    volgorde: int = pa.Field(coerce=True, ge=0, description="een geheel getal, zoals 1")


class DoelstellingenSchema(pa.DataFrameModel):
    project: str = _text(nullable=True)
    indicator: str = _text(isin=list(INDICATOR_CODES))
    doel: int = pa.Field(coerce=True, ge=0, description="een aantal, zoals 1180")
    geldig_vanaf: pa.DateTime = pa.Field(coerce=True, description=_DATE)
    bron: str = _text(nullable=True)


class GemeentenSchema(pa.DataFrameModel):
    naam: str = _text(unique=True, description="de naam van de gemeente")
    cbs_code: str = _text(str_matches=r"^GM\d{4}$", unique=True,
                          description="de CBS-code: GM en vier cijfers (zoals GM0402)")


class StoplichtSchema(pa.DataFrameModel):
    kleur: str = _text(isin=["groen", "oranje", "rood"], unique=True)
    vanaf: float = pa.Field(coerce=True, ge=0, le=10,
                            description="een deel van 1, zoals 0,9 voor 90%")
    betekenis: str = _text(nullable=True)


class RegelsSchema(pa.DataFrameModel):
    code: str = _text(str_matches=r"^[a-z0-9]+(-[a-z0-9]+)*$", unique=True,
                      description="kleine letters en cijfers met streepjes (zoals "
                                  "werk-niet-meer-dan-gestart)")
    omschrijving: str = _text(description="wat de regel controleert")
    links: str = _text(description="een indicator, zoals gestarte_trajecten")
    operator: str = _text(isin=list(OPERATORS))
    rechts: str = _text(description="een indicator, zoals aanmeldingen")
    ernst: str = _text(isin=["fout", "waarschuwing"])
    ontbrekend: str = _text(isin=list(MISSING_VALUE_STRATEGIES))
    niveau: str = _text(isin=["rij", "cumulatief"])
    melding: str = _text(description="de melding voor de gemeente")


class VergrendeldSchema(pa.DataFrameModel):
    periode: str = _text(str_matches=r"^\d{4}-Q[1-4]$",
                         description="een kwartaal, zoals 2020-Q3")
    vergrendeld_op: pa.DateTime = pa.Field(coerce=True, description=_DATE)
    reden: str = _text(nullable=True)


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "Projecten": ProjectenSchema,
    "Indicatoren": IndicatorenSchema,
    "Doelstellingen": DoelstellingenSchema,
    "Gemeenten": GemeentenSchema,
    "Stoplicht": StoplichtSchema,
    "Regels": RegelsSchema,
    "Vergrendeld": VergrendeldSchema,
}

