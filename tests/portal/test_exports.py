"""Exports that cannot run (issue 21 item 4): every Excel and CSV export writes user-entered
text as text through portal.exports, whatever it starts with (= + - @ tab CR), and numbers
as numbers. Each export is loaded back with openpyxl: the cell is not a formula
(``data_type != "f"``), shows exactly the text that was entered, and carries Excel's quote
prefix, which keeps it text when someone edits it."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from portal import exports
from portal.models import District, School
from tests.factories import UserFactory

FORMULA = '=HYPERLINK("http://x","y")'
RISKY = [FORMULA, "+1+2", "-1+2", "@SUM(A1)", "\t=1+2", "\r=1+2", "=cmd|' /C calc'!A0"]


def _text_as_entered(cell, text):
    assert cell.data_type == "s", (cell.coordinate, cell.data_type)
    assert cell.value == text
    assert cell.quotePrefix is True


def _workbook(response_or_bytes):
    if isinstance(response_or_bytes, bytes):
        data = response_or_bytes
    elif getattr(response_or_bytes, "streaming", False):
        data = b"".join(response_or_bytes.streaming_content)
    else:
        assert response_or_bytes.status_code == 200
        data = response_or_bytes.content
    return load_workbook(io.BytesIO(data))


def _cell_with(wb, text):
    found = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == text]
    assert found, f"{text!r} not in the workbook"
    return found[0]


def _formulas(wb):
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


# --- the helper ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", RISKY)
def test_safe_cell_quotes_text_that_would_be_a_formula(text):
    assert exports.safe_cell(text) == "'" + text
    assert exports.risky(text)


@pytest.mark.parametrize("value", ["甲小学", "HYPERLINK", "1+2", " =1", "", "a=b", "'=quoted"])
def test_safe_cell_leaves_other_text_alone(value):
    assert exports.safe_cell(value) == value


@pytest.mark.parametrize("value", [-5, -5.5, Decimal("-60.00"), 0, 12, None, 3.25])
def test_numbers_stay_numbers(value):
    assert exports.safe_cell(value) is value
    wb = Workbook()
    ws = wb.active
    exports.xlsx_append(ws, ["x", value])
    back = load_workbook(_saved(wb)).active
    if value is None:
        assert back["B1"].value is None
    else:
        assert back["B1"].data_type == "n" and back["B1"].value == value


def _saved(wb) -> io.BytesIO:
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def test_a_csv_row_is_quoted_and_reads_back_as_text():
    out = io.StringIO()
    csv.writer(out).writerow(exports.csv_row([FORMULA, "@x", -5, Decimal("-1.50"), "甲"]))
    row = next(csv.reader(io.StringIO(out.getvalue())))
    assert row == ["'" + FORMULA, "'@x", "-5", "-1.50", "甲"]


def test_xlsx_cells_hold_risky_text_as_text_and_drop_what_a_workbook_cannot_hold():
    wb = Workbook()
    ws = wb.active
    exports.xlsx_append(ws, RISKY)
    exports.xlsx_append(ws, ["a\x00b\x01c\x1fd", "甲小学", -3])
    exports.xlsx_cell(ws.cell(3, 1), FORMULA)
    back = load_workbook(_saved(wb)).active
    for column, text in enumerate(RISKY, start=1):
        # (XML reads a carriage return back as a line feed: still the text, still text)
        _text_as_entered(back.cell(1, column), text.replace("\r", "\n"))
    assert back["A2"].value == "abcd" and back["B2"].data_type == "s"
    assert back["B2"].quotePrefix is False  # ordinary text keeps the ordinary style
    assert back["C2"].data_type == "n" and back["C2"].value == -3
    _text_as_entered(back["A3"], FORMULA)


# --- the settlement Excel (afterschool) ---------------------------------------------------


@pytest.mark.django_db
def test_the_settlement_workbook_writes_names_as_text(world, client_for):
    from afterschool import enrolment, fees, payments
    from afterschool.fee_views import settlement_xlsx
    from afterschool.models import Offering, Settlement
    from portal.models import Child
    from tests.afterschool.fees_helpers import early, paid_course

    School.objects.filter(pk=world.school_a.pk).update(name="+甲小学")
    course = paid_course(world.school_a, name=FORMULA)
    Child.objects.filter(pk=world.child_a.pk).update(name="@SUM(A1)")
    e = enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    # the settlement lists the bills paid (or waived)
    payment = payments.payment_start(
        user=world.parent_a, bill_id=e.bills.get().pk, provider="sandbox"
    )
    payments.notify("sandbox", *payments.PROVIDERS["sandbox"].notification(payment))
    assert Offering.objects.get(pk=course.pk).name == FORMULA
    r = client_for(world.principal_a).get(
        reverse("afterschool:settlement"), {"term": course.plan.term_id, "format": "xlsx"}
    )
    wb = _workbook(r)
    bills = wb["账单"]
    _text_as_entered(bills["A2"], "@SUM(A1)")
    _text_as_entered(bills["B2"], FORMULA)
    assert bills["E2"].data_type == "n" and bills["E2"].value == 60  # 应收
    title = wb["汇总"]["A1"]
    assert title.data_type == "s" and title.value.startswith("+甲小学") and title.quotePrefix
    assert not _formulas(wb)

    # a negative figure (the pool when the public subsidy covers it) stays a number
    school = School.objects.get(pk=world.school_a.pk)
    report = fees.settlement_report(school, course.plan.term)
    posted = Settlement(
        school=school, term=course.plan.term, fees=Decimal("0"), providers=Decimal("90"),
        subsidies=Decimal("0"), pool=Decimal("-90"),
    )  # fmt: skip
    summary = _workbook(settlement_xlsx(report, posted))["汇总"]
    pool = _cell_with(summary.parent, "计入绩效工资（负数为需财政奖补）")
    value = summary.cell(pool.row, 2)
    assert value.data_type == "n" and value.value == -90


# --- the dashboard's monthly report (portal) ------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_report_writes_school_names_as_text(world, client_for):
    staff = UserFactory(username="dash", is_staff=True)
    staff.groups.add(Group.objects.get(name="课后服务"))
    School.objects.filter(pk=world.school_a.pk).update(name=FORMULA)
    District.objects.filter(pk=world.school_a.district_id).update(name="-区")
    r = client_for(staff).get(
        reverse("dashboard:report", args=["afterschool"]),
        {"district": world.school_a.district_id, "month": f"{timezone.localdate():%Y-%m}"},
    )
    wb = _workbook(r)
    rates = wb.worksheets[0]
    _text_as_entered(_cell_with(wb, FORMULA), FORMULA)
    assert rates["A1"].data_type == "s" and rates["A1"].value.startswith("-区")
    assert rates["A1"].quotePrefix is True
    row = _cell_with(wb, FORMULA).row
    assert rates.cell(row, 2).data_type == "n"  # the participation rate stays a number
    assert not _formulas(wb)


# --- the institution register (institutions) ------------------------------------------------


@pytest.mark.django_db
def test_the_institution_export_writes_names_and_addresses_as_text(client_for):
    from institutions import excel
    from tests.factories import DistrictFactory
    from tests.institutions.helpers import make_institution, training_staff

    district = DistrictFactory(name="鼓楼区")
    actor = training_staff()
    make_institution(actor, district, name=FORMULA, address="-1 号楼", white=False)
    r = client_for(actor).get(reverse("institutions:export"))
    assert r.status_code == 200
    data = b"".join(r.streaming_content)
    wb = _workbook(data)
    ws = wb[excel.DATA_SHEET]
    _text_as_entered(ws["A2"], FORMULA)
    _text_as_entered(_cell_with(wb, "-1 号楼"), "-1 号楼")
    scale = ws.cell(2, excel.EXPORT_HEADERS.index("在训学员规模") + 1)
    assert scale.data_type == "n" and scale.value == 200
    # read back, the file is still in the import format (the quote prefix is only a style):
    # the one objection is that the institution is registered already
    _rows, errors = excel.parse(data)
    assert [e.column for e in errors] == ["统一社会信用代码"]
    assert "已登记" in errors[0].message


# --- the homework monthly report (homework) -------------------------------------------------


def test_the_homework_report_writes_school_names_as_text():
    from homework.reports import ReportRow, report_xlsx

    row = ReportRow(
        school_id=1, school=FORMULA, grade=3, classes=2, class_days=40,
        over_published=-1, over_reported=0, not_published=3,
    )  # fmt: skip
    wb = _workbook(report_xlsx([row], title="@区 2026-09 作业月报"))
    ws = wb.active
    _text_as_entered(ws["A1"], "@区 2026-09 作业月报")
    _text_as_entered(ws["A3"], FORMULA)
    assert ws["E3"].data_type == "n" and ws["E3"].value == -1
