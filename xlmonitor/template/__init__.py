"""The standard quarterly workbook for one municipality and quarter: project rows pre-filled,
input cells unlocked and validated, everything else locked, a Dutch instruction sheet, hidden
metadata (:mod:`.standard`). Its layout is a contract with intake (``docs/architecture.md``).
"""

from xlmonitor.template.standard import build_template, build_templates, template_file_name

__all__ = ["build_template", "build_templates", "template_file_name"]
