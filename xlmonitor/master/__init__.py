"""The master workbook: Dashboard and Gemeenten with live formulas and traffic lights
(:mod:`.dashboard`, values cached from :mod:`.figures`), Inzendingen, Validatie, Data
(:mod:`.datasheet`), Doelen (:mod:`.targets_sheet`), and for the button's ``.xlsm`` the
Instellingen sheet and VBA project (:mod:`.settings_sheet`, :mod:`.vba`). Names other
programs rely on are in :mod:`.contract`; :mod:`.publish` writes it all, atomically.
"""

from xlmonitor.master.publish import write_button_master, write_master

__all__ = ["write_button_master", "write_master"]
