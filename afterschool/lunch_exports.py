"""The monthly report of lunch care as an Excel workbook (cells through portal.exports)."""

import datetime as dt
import io

from afterschool import lunch_selectors as sel

HEADER = ["学校", "名额", "床位", "每月收费（元）", "平躺睡", "趴睡", "合计", "候补"]


def report_xlsx(user, month: dt.date) -> bytes:
    from openpyxl import Workbook

    from portal.exports import xlsx_append

    wb = Workbook()
    ws = wb.active
    ws.title = f"{month:%Y-%m}午托"
    xlsx_append(ws, HEADER)
    for r in sel.report(user, month):
        xlsx_append(ws, [r["school"], r["seats"], r["beds"], r["fee"], r["bed"], r["desk"],
                         r["total"], r["waiting"]])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
