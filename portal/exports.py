"""Writing user-entered text into Excel and CSV exports so that it can never run.

A spreadsheet reads a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in a CSV, after a
leading tab or carriage return) as a formula: a course named ``=HYPERLINK("http://x","y")``
would be a live link in the school's settlement, ``=cmd|...`` worse (OWASP "CSV injection").
Every export writes its cells through this module:

  * Excel (openpyxl): ``xlsx_cell(cell, value)`` / ``xlsx_append(ws, values)``. Text is
    always a text cell (openpyxl would make any ``str`` starting with ``=`` a formula), and
    text starting with one of those characters also gets Excel's "quote prefix" (the style
    Excel itself gives a cell typed as ``'=…``): the cell shows exactly what the user wrote,
    and stays text when someone edits it in Excel or LibreOffice.
  * CSV: ``csv_row(values)`` / ``safe_cell(value)``. A CSV has no cell types, so such text is
    written with a leading ``'`` (the OWASP recommendation).

Numbers (int, float, Decimal, negative ones too), dates and ``None`` are left as they are:
they stay numbers. Characters a workbook cannot hold (control characters other than tab, LF
and CR, which openpyxl refuses with an exception) are dropped from text.
"""

from collections.abc import Iterable

# Text starting with one of these is read as a formula (tab and CR: by CSV importers).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# the XML 1.0 control characters a workbook cannot store (openpyxl's ILLEGAL_CHARACTERS_RE)
_ILLEGAL = {c: None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))}


def _clean(text: str) -> str:
    return text.translate(_ILLEGAL)


def risky(value) -> bool:
    """Whether ``value`` is text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_cell(value):
    """``value`` for a CSV (or any plain-text) export: text a spreadsheet would read as a
    formula gets a leading ``'``; anything that is not text is returned unchanged."""
    if not isinstance(value, str):
        return value
    value = _clean(value)
    return "'" + value if risky(value) else value


def csv_row(values: Iterable) -> list:
    """One CSV row through ``safe_cell`` (for ``csv.writer(...).writerow``)."""
    return [safe_cell(v) for v in values]


def xlsx_cell(cell, value):
    """Put ``value`` into an openpyxl cell: text as a text cell (never a formula), with the
    quote prefix when it starts like a formula; numbers, dates and None as they are."""
    if not isinstance(value, str):
        cell.value = value
        return cell
    value = _clean(value)
    cell.value = value
    cell.data_type = "s"  # (openpyxl made it "f" when the text starts with "=")
    if risky(value):
        cell.quotePrefix = True
    return cell


def xlsx_append(ws, values: Iterable):
    """``ws.append(values)`` with every cell written by ``xlsx_cell``."""
    values = [_clean(v) if isinstance(v, str) else v for v in values]
    ws.append(values)
    row = ws.max_row  # the row just appended (nothing is below it)
    for column, value in enumerate(values, start=1):
        xlsx_cell(ws.cell(row=row, column=column), value)
    return row
