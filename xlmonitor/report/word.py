"""The look of the report in Word (python-docx): A4 portrait, the house colours of the
master, one table look for every table, coloured traffic-light cells, page numbers.

Every table uses the built-in style "Table Grid" with the same borders, header and fonts
(:func:`add_table`), so Word lists one table style and LibreOffice, which imports a docx
table style only partly, renders the same look from the direct formatting.
"""

from __future__ import annotations

from collections.abc import Sequence

from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from xlmonitor.master.styles import LIGHT_COLOURS, NAVY, SLATE

TABLE_STYLE = "Table Grid"
RULE = "BFBFBF"
FONT = "Calibri"


def rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#").upper())


def set_up(document, footer: str) -> None:
    """A4 portrait with 2 cm margins; Calibri 10; navy headings; footer with ``footer``,
    page X of Y."""
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    styles = document.styles
    normal = styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(10)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(4)
    for name, size in (("Title", 24), ("Heading 1", 15), ("Heading 2", 11.5)):
        style = styles[name]
        style.font.name, style.font.size = FONT, Pt(size)
        style.font.color.rgb = rgb(NAVY)
        style.font.bold = name != "Title"
        style.paragraph_format.keep_with_next = True
    styles["Heading 1"].paragraph_format.space_before = Pt(16)
    styles["Heading 2"].paragraph_format.space_before = Pt(10)
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(f"{footer} · pagina ")
    _small(run)
    _field(paragraph, "PAGE")
    _small(paragraph.add_run(" van "))
    _field(paragraph, "NUMPAGES")


def _small(run) -> None:
    run.font.size = Pt(8)
    run.font.color.rgb = rgb(SLATE)


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES): Word and LibreOffice fill it in when laying out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "16")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), SLATE.lstrip("#"))
    properties.extend([colour, size])
    text = OxmlElement("w:t")
    text.text = "1"
    run.extend([properties, text])
    field.append(run)
    paragraph._p.append(field)


def shade(cell, colour: str) -> None:
    """Fill a table cell with ``colour``."""
    properties = cell._tc.get_or_add_tcPr()
    for old in properties.findall(qn("w:shd")):
        properties.remove(old)
    fill = OxmlElement("w:shd")
    fill.set(qn("w:val"), "clear")
    fill.set(qn("w:color"), "auto")
    fill.set(qn("w:fill"), colour.lstrip("#").upper())
    properties.append(fill)


def light_run(paragraph, light: str):
    """The word of a traffic light on its colour (character shading), e.g. in a sentence."""
    fill, font = LIGHT_COLOURS.get(light, LIGHT_COLOURS["n.v.t."])
    run = paragraph.add_run(f" {light} ")
    run.bold = True
    run.font.color.rgb = rgb(font)
    properties = run._r.get_or_add_rPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill.lstrip("#").upper())
    properties.append(shading)
    return run


def _borders(table) -> None:
    """Light horizontal rules only (no vertical lines), the same on every table."""
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        visible = edge in ("top", "bottom", "insideH")
        element.set(qn("w:val"), "single" if visible else "nil")
        if visible:
            element.set(qn("w:sz"), "4")
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), RULE)
        borders.append(element)
    for old in properties.findall(qn("w:tblBorders")):
        properties.remove(old)
    properties.append(borders)


def add_table(document, headers: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float], *, numeric: Sequence[int] = (),
              lights: dict[tuple[int, int], str] | None = None,
              bold_rows: Sequence[int] = (), bold_cells: Sequence[tuple[int, int]] = ()):
    """A table in the report's one look: navy header row (repeated on a new page), light
    rules, numbers right-aligned, ``lights`` ((row, col) → kleur) as coloured cells."""
    if document.paragraphs:  # the sentence introducing the table stays on its page
        document.paragraphs[-1].paragraph_format.keep_with_next = True
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = document.styles[TABLE_STYLE]
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    _borders(table)
    lights = lights or {}
    for r, values in enumerate([headers, *rows]):
        row = table.rows[r]
        if r == 0:
            header = OxmlElement("w:tblHeader")
            row._tr.get_or_add_trPr().append(header)
        cant_split = OxmlElement("w:cantSplit")
        row._tr.get_or_add_trPr().append(cant_split)
        for c, value in enumerate(values):
            cell = row.cells[c]
            cell.width = Cm(widths[c])
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            if c in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = paragraph.add_run(str(value))
            run.font.size = Pt(9)
            if r == 0:
                shade(cell, NAVY)
                run.bold = True
                run.font.color.rgb = rgb("#FFFFFF")
            elif (r - 1, c) in lights:
                fill, font = LIGHT_COLOURS.get(lights[(r - 1, c)], LIGHT_COLOURS["n.v.t."])
                shade(cell, fill)
                run.bold = True
                run.font.color.rgb = rgb(font)
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if (r - 1) in bold_rows or (r - 1, c) in bold_cells:
                run.bold = True
    for c, width in enumerate(widths):
        table.columns[c].width = Cm(width)
    document.add_paragraph().paragraph_format.space_after = Pt(2)
    return table


def note(document, text: str):
    """A small grey explanatory paragraph."""
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.italic = True
    _small(run)
    run.font.size = Pt(8.5)
    return paragraph
