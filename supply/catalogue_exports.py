"""The catalogue's report as Excel (公益课程包送课统计): pupils reached per venue and per
school, the figures of the report page (cells through portal.exports: never a formula)."""

import io

from openpyxl import Workbook

from portal.exports import xlsx_append
from supply import catalogue_selectors as sel

VENUE_HEADERS = ["场馆/组织", "送课场次", "服务学生人次", "服务学校数", "平均评分"]
SCHOOL_HEADERS = ["学校", "送课场次", "服务学生人次", "场馆数", "平均评分"]


def _rating(value):
    return round(float(value), 2) if value is not None else None


def report_workbook(term_id=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "按场馆"
    xlsx_append(ws, ["公益课程包送课统计（按场馆）"])
    xlsx_append(ws, VENUE_HEADERS)
    for r in sel.reached_by_venue(term_id):
        xlsx_append(ws, [r["order__package__organisation__name"], r["visits"], r["pupils"],
                         r["schools"], _rating(r["rating"])])  # fmt: skip
    ws = wb.create_sheet("按学校")
    xlsx_append(ws, ["公益课程包送课统计（按学校）"])
    xlsx_append(ws, SCHOOL_HEADERS)
    for r in sel.reached_by_school(term_id):
        xlsx_append(ws, [r["order__school__name"], r["visits"], r["pupils"], r["venues"],
                         _rating(r["rating"])])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
