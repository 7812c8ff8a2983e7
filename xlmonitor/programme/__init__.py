"""The programme: projects, indicators, targets with validity dates, municipalities with CBS
codes, traffic-light thresholds, validation rules and locked periods, as staff edit them in
``workbooks/programma.xlsx`` (:mod:`.definition`); itself checked cell by cell against pandera
schemas (:mod:`.check`, :mod:`.schemas`). The default
programme is built from the council letters (:mod:`.seed`).
"""

from xlmonitor.programme.definition import Programme, build_programme_workbook, load_programme

__all__ = ["Programme", "build_programme_workbook", "load_programme"]
