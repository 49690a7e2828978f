"""POST cases of the training institutions line: courses, the Excel import, the escrow's
bank statements and the bureau's actions on a purchase."""

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from institutions import escrow
from institutions.escrow_models import BankStatementLine, Purchase
from institutions.escrow_views import statement_parse
from institutions.models import Course, Institution, SupervisedAccount
from portal.models import SchoolPeriod
from tests.institutions.conftest import buy, escrow_institution
from tests.institutions.helpers import make_institution
from tests.post_routes import Case, case, staff_of

BUREAU_REFUSED = ("anonymous", "school", "bureau_homework")

COURSE = {"name": "周三数学", "subject": "数学", "mode": "offline", "lesson_minutes": "45",
          "class_size": "20", "price_per_lesson": "25", "term_start": "2026-11-02",
          "term_end": "2026-12-25", "slots": "周三 18:30-19:15"}  # fmt: skip


def _institution(w, staff):
    d = w.school_a.district
    SchoolPeriod.objects.create(
        district=d, kind="term", name="秋季学期", start=dt.date(2026, 9, 1),
        end=dt.date(2027, 1, 22),
    )  # fmt: skip
    return make_institution(staff, d)


def _courses():
    return list(Course.objects.order_by("pk").values_list("name", "price_per_lesson"))


@case("institutions:course_new", refused=BUREAU_REFUSED)
def course_new(w):
    staff = staff_of("校外培训", "xiaowai")
    inst = _institution(w, staff)
    return Case(
        url=reverse("institutions:course_new", args=[inst.pk]),
        user=staff,
        valid=COURSE,
        state=_courses,
        audit="institutions.course.created",
        invalid={**COURSE, "price_per_lesson": "30"},
        error="超过政府指导价",
    )


@case("institutions:course_edit", refused=BUREAU_REFUSED)
def course_edit(w):
    from institutions.services import course_save

    staff = staff_of("校外培训", "xiaowai")
    inst = _institution(w, staff)
    course_save(
        actor=staff, institution=inst, name="周三数学", subject="数学", mode="offline",
        lesson_minutes=45, class_size=20, price_per_lesson=Decimal("25.00"),
        term_start=dt.date(2026, 11, 2), term_end=dt.date(2026, 12, 25),
        slots=[{"weekday": 2, "start": dt.time(18, 30), "end": dt.time(19, 15)}],
    )  # fmt: skip
    course = Course.objects.get()
    return Case(
        url=reverse("institutions:course_edit", args=[course.pk]),
        user=staff,
        valid={**COURSE, "price_per_lesson": "27"},
        state=_courses,
        audit="institutions.course.changed",
        invalid={**COURSE, "slots": "星期八 9点"},
        error="格式不对",
    )


def _xlsx(district_name):
    from tests.institutions.test_excel import good_row, xlsx

    return xlsx([good_row(1, district=district_name), good_row(2, district=district_name)])


@case("institutions:import", refused=BUREAU_REFUSED)
def excel_import(w):
    from institutions import excel

    district = w.school_a.district
    data = _xlsx(district.name)
    return Case(
        url=reverse("institutions:import"),
        user=staff_of("校外培训", "xiaowai"),
        valid={},
        files=lambda: {"file": SimpleUploadedFile("机构.xlsx", data, excel.CONTENT_TYPE)},
        state=lambda: list(Institution.objects.order_by("pk").values_list("name", flat=True)),
        audit="institutions.institution.imported",
        invalid={},
        invalid_files=lambda: {"file": SimpleUploadedFile("a.txt", b"hello", "text/plain")},
        error="不是 Excel（.xlsx）文件",
    )


# the escrow pages read the escrow policy, whose default row is made on first read
ESCROW_LAZY = frozenset({"institutions.EscrowPolicy"})


def _escrow(w):
    staff = staff_of("校外培训", "xiaowai")
    inst = escrow_institution(district=w.school_a.district)
    return staff, inst, SupervisedAccount.objects.get(institution=inst)


def _lines():
    return list(
        BankStatementLine.objects.order_by("pk").values_list("reference", "match", "transaction")
    )


def _csv(*rows):
    return ("日期,金额,参考号,对方户名\n" + "".join(f"{r}\n" for r in rows)).encode()


@case("institutions:escrow_statement_upload", refused=BUREAU_REFUSED)
def statement_upload(w):
    staff, inst, account = _escrow(w)
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    good = _csv(f"{day},3000.00,PAY-20260301-0001,张某某")
    bad = _csv(f"{day},三千元,PAY-20260301-0002,李某某")
    return Case(
        url=reverse("institutions:escrow_statement_upload", args=[account.pk]),
        user=staff,
        valid={},
        files=lambda: {"file": SimpleUploadedFile("statement.csv", good, "text/csv")},
        state=_lines,
        audit="institutions.escrow.statement_imported",
        invalid={},
        invalid_files=lambda: {"file": SimpleUploadedFile("statement.csv", bad, "text/csv")},
        error="不是金额",
        ignore=ESCROW_LAZY,
    )


def _imported(staff, account, *rows):
    parsed, encoding = statement_parse(_csv(*rows))
    return escrow.statement_import(
        actor=staff, account_id=account.pk, filename="statement.csv", rows=parsed,
        encoding=encoding,
    )  # fmt: skip


@case("institutions:escrow_rematch", refused=BUREAU_REFUSED)
def rematch(w):
    staff, inst, account = _escrow(w)
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    _imported(staff, account, f"{day},1000.00,PAY-0001,张三")  # the bank saw it first
    buy(staff, inst, key="PAY-0001", amount="1000.00")  # then the purchase was recorded
    return Case(
        url=reverse("institutions:escrow_rematch", args=[account.pk]),
        user=staff,
        valid={},
        state=_lines,
        unaudited="matching bank lines to the ledger derives a link from two audited records "
        "(the imported statement, the booked transaction); it books nothing",
        no_invalid="a button without fields",
    )


@case("institutions:escrow_line_book", refused=BUREAU_REFUSED)
def line_book(w):
    staff, inst, account = _escrow(w)
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    _imported(staff, account, f"{day},12.34,INTEREST-1,工商银行")
    line = BankStatementLine.objects.get()
    return Case(
        url=reverse("institutions:escrow_line_book", args=[line.pk]),
        user=staff,
        valid={"memo": "银行结息"},
        state=_lines,
        audit="institutions.escrow.bank_line_booked",
        invalid={"memo": ""},
        error="补记银行流水须写明流水性质",
        ignore=ESCROW_LAZY,
    )


@case("institutions:escrow_purchase_action", "dispute_open", refused=BUREAU_REFUSED)
def dispute_open(w):
    staff, inst, account = _escrow(w)
    buy(staff, inst)
    purchase = Purchase.objects.get()
    return Case(
        url=reverse("institutions:escrow_purchase_action", args=[purchase.pk, "dispute_open"]),
        user=staff,
        valid={"reason": "家长投诉停课"},
        state=lambda: list(
            Purchase.objects.order_by("pk").values_list("dispute_open", "dispute_reason")
        ),
        audit="institutions.escrow.dispute_opened",
        invalid={"reason": "  "},
        error="请填写争议事由",
        ignore=ESCROW_LAZY,
    )
