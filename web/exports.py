"""Report tables as files: CSV for Russian Excel and XLSX, numbers as numbers, dates as dates,
every text cell neutralised against formula injection and stripped of phone numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

# A cell starting with one of these is run as a formula by Excel or LibreOffice
# (=HYPERLINK(...), +cmd|..., -2+3, @SUM); tab and CR open the same door after a paste.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PHONE_HIDDEN = "[номер скрыт]"
# A Russian number as people type it into a name or a comment: +7 or 8 and ten digits, or
# a bare mobile number (9xx and seven digits), with spaces, dashes or brackets in between.
# Contract numbers such as 2026-11-0001 do not fit the 3-3-2-2 grouping and are left alone.
_PHONE = re.compile(
    r"(?:\+7|(?<![\d+])[78])[\s()\-]*\d{3}[\s()\-]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)"
    r"|(?<![\d+])9\d{2}[\s()\-]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)"
)
CSV_DATE = "%d.%m.%Y"
XLSX_DATE = "DD.MM.YYYY"
XLSX_MONEY = "#,##0.00"
XLSX_PERCENT = "0.0%"


class Kind(StrEnum):
    text = "text"
    number = "number"  # a count
    money = "money"  # kopecks in, roubles with kopecks out
    date = "date"
    percent = "percent"  # 0-100 in, a spreadsheet percent out; None: nothing to divide by


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = Kind.text


Cell = str | int | float | date | None


@dataclass(frozen=True)
class Table:
    """One report as rows of typed cells, ready to be written as CSV or XLSX."""

    name: str  # the file's and the sheet's name
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]


def neutralise(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula, with no phone number in it.

    A leading apostrophe is what OWASP recommends: Excel shows the text as it was and
    never evaluates it.
    """
    text = _PHONE.sub(PHONE_HIDDEN, text)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def rubles(kopecks: int) -> Decimal:
    """Kopecks as an exact number of roubles: 125000050 → 1250000.50."""
    return Decimal(kopecks) / 100


def to_csv(table: Table) -> bytes:
    """CSV as Russian Excel opens it by a double click: UTF-8 with a BOM (else Cyrillic comes
    out garbled), `;` between cells, a decimal comma and dates as 27.11.2026."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(column.title) for column in table.columns])
    for row in table.rows:
        writer.writerow(
            [
                _csv_cell(value, column.kind)
                for value, column in zip(row, table.columns, strict=True)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Cell, kind: Kind) -> str:
    if value is None:
        return ""
    if kind is Kind.money and isinstance(value, int):
        return f"{rubles(value):.2f}".replace(".", ",")
    if kind is Kind.percent and isinstance(value, int | float):
        return f"{value:.1f}%".replace(".", ",")  # Russian Excel reads "42,9%" as a percent
    if kind is Kind.number and isinstance(value, int):
        return str(value)
    if kind is Kind.date and isinstance(value, date):
        return value.strftime(CSV_DATE)
    return neutralise(str(value))


def to_xlsx(table: Table) -> bytes:
    """An XLSX workbook of one sheet: money and counts as numbers, dates as dates.

    Slow for big tables (openpyxl writes cell by cell): call it in a worker thread.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(table.name))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(table.columns, start=1):
        width = 14 if column.kind is not Kind.text else 32
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(column.title))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        sheet.append(
            [
                _xlsx_cell(sheet, value, column.kind)
                for value, column in zip(row, table.columns, strict=True)
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: object, value: Cell, kind: Kind) -> object:
    if value is None:
        return None
    if kind is Kind.money and isinstance(value, int):
        cell = WriteOnlyCell(sheet, value=rubles(value))
        cell.number_format = XLSX_MONEY
        return cell
    if kind is Kind.percent and isinstance(value, int | float):
        cell = WriteOnlyCell(sheet, value=round(float(value) / 100, 4))
        cell.number_format = XLSX_PERCENT
        return cell
    if kind is Kind.number and isinstance(value, int):
        return value
    if kind is Kind.date and isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE
        return cell
    return _xlsx_text(str(value))


def _xlsx_text(text: str) -> str:
    # openpyxl refuses control characters that XML 1.0 cannot hold; they carry nothing.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", text))


def _sheet_title(name: str) -> str:
    # Excel's limits: 31 characters, none of []:*?/\
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "Отчёт"
