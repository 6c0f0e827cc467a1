"""Writing ``plan.xlsx``'s worksheets faster, byte for byte as openpyxl writes them.

Without lxml, openpyxl turns every cell into an ElementTree element and serialises it
through et_xmlfile's namespace-aware incremental writer: most of the time of writing
a plan's workbook (tens of thousands of cells) goes there. :class:`ExcelWriter` here
writes the cells of a plan's tables (numbers, booleans, texts and blanks) as text,
with the attributes in the same order, the same number formatting and the same
escaping, and leaves every other cell (a formula, a date, an error code, rich text, a
comment or a hyperlink) and every row with row dimensions to openpyxl's own code, in
the same order, so style ids are handed out as openpyxl hands them out.
``tests/test_workbook.py`` checks that the archive's members are those openpyxl writes.

With lxml installed openpyxl serialises through lxml, which is fast and writes its own
bytes; this writer then leaves everything to openpyxl.
"""

from __future__ import annotations

from openpyxl.cell._writer import write_cell
from openpyxl.cell.rich_text import CellRichText
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter as _ExcelWriter

# data types written here; "f", "e" and "d" cells go through openpyxl
_PLAIN_TYPES = frozenset(("n", "s", "b"))


def _escape_text(text: str) -> str:
    """Element text escaped as ElementTree escapes it (``&``, ``<``, ``>`` only)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def cell_xml(cell, styled: bool) -> str | None:
    """The ``<c>`` element openpyxl writes for a plain cell, or None for any other cell.

    Parameters
    ----------
    cell : openpyxl.cell.Cell
    styled : bool
        ``cell.has_style``: the element then carries ``s``, the cell's style id (which
        registers its style with the workbook, as openpyxl's writer does).

    Returns
    -------
    str or None
        None for a cell openpyxl must write itself (see the module docstring); such a
        cell's style is not registered here.
    """
    kind = cell.data_type
    value = cell._value
    if kind not in _PLAIN_TYPES or isinstance(value, CellRichText):
        return None
    style = f' s="{cell.style_id}"' if styled else ""
    head = f'<c r="{cell.coordinate}"{style} t="{"inlineStr" if kind == "s" else kind}"'
    if value is None or value == "":
        return head + " />"
    if kind == "s":
        text = str(value)
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and text != stripped else ""
        return f"{head}><is><t{space}>{_escape_text(text)}</t></is></c>"
    shown = safe_string(value)
    return f"{head}><v>{_escape_text(shown)}</v></c>" if shown else f"{head}><v /></c>"


class SheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer with plain cells written by :func:`cell_xml`."""

    def write_row(self, xf, row, row_idx):
        """Write one ``<row>``: what :meth:`WorksheetWriter.write_row` writes."""
        # et_xmlfile's writer function; lxml's incremental writer has none
        raw = getattr(xf, "_file", None)
        if raw is None or row_idx in self.ws.row_dimensions:
            return super().write_row(xf, row, row_idx)
        with xf.element("row", {"r": f"{row_idx}"}):
            parts: list[str] = []
            for cell in row:
                if cell._comment is None and not cell.hyperlink:
                    styled = cell.has_style
                    if cell._value is None and not styled:
                        continue
                    text = cell_xml(cell, styled)
                    if text is not None:
                        parts.append(text)
                        continue
                # openpyxl's own path for this cell, after the cells before it
                if parts:
                    raw("".join(parts))
                    parts = []
                if cell._comment is not None:
                    self.ws._comments.append(CommentRecord.from_cell(cell))
                if cell._value is None and not cell.has_style and not cell._comment:
                    continue
                write_cell(xf, self.ws, cell, cell.has_style)
            if parts:
                raw("".join(parts))


class ExcelWriter(_ExcelWriter):
    """openpyxl's workbook writer with worksheets written by :class:`SheetWriter`."""

    def write_worksheet(self, ws):
        """What :meth:`openpyxl.writer.excel.ExcelWriter.write_worksheet` does."""
        if self.workbook.write_only:
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = SheetWriter(ws)
        writer.write()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()
