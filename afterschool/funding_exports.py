"""The bureau's monthly funding roll-up as an Excel workbook (every cell through
portal.exports: names are text, never formulas)."""

import io

from afterschool.funding_selectors import Rollup


def rollup_xlsx(district, rollup: Rollup) -> bytes:
    """The roll-up as a workbook (portal.exports: names are text, never formulas)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from portal.exports import xlsx_append

    wb = Workbook()
    ws = wb.active
    ws.title = "教师课时补助"
    xlsx_append(ws, [f"{district.name} {rollup.month:%Y年%m月} 课后服务经费监管"])
    ws["A1"].font = Font(bold=True, size=14)
    xlsx_append(
        ws,
        [
            "学校",
            "教师",
            "课时",
            f"应发不少于（{rollup.floor} 元/课时）",
            "实发",
            "每课时",
            "低于标准",
        ],
    )
    for r in rollup.teachers:
        xlsx_append(
            ws,
            [
                r.school.name,
                r.staff.name,
                r.lessons,
                float(r.due),
                "未上报" if r.paid is None else float(r.paid),
                "" if r.per_lesson is None else float(r.per_lesson),
                "是" if r.under else "否",
            ],
        )
    under = wb.create_sheet("低于标准的学校")
    xlsx_append(under, ["学校", "低于标准的教师数", "教师"])
    for school, rows in rollup.schools_under.items():
        xlsx_append(under, [school.name, len(rows), "、".join(r.staff.name for r in rows)])
    funds = wb.create_sheet("财政奖补")
    xlsx_append(funds, ["学校", "学期", "已到账", "结算缺口", "仍需", "结余未用"])
    for f in rollup.funds:
        xlsx_append(
            funds,
            [
                f.school.name,
                f.term.name,
                float(f.received),
                "未结算" if f.settled is None else float(f.shortfall),
                "未结算" if f.settled is None else float(f.needed),
                "未结算" if f.settled is None else float(f.unspent),
            ],
        )
    for sheet in wb.worksheets:
        for cell in sheet[2 if sheet is ws else 1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
