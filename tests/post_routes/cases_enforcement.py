"""POST cases of enforcement (tests/post_routes): rounds, groups, the draw, visits (with a
photo), patrols, 约谈, sanctions and their closing, 通报."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from institutions import enforcement
from institutions.enforcement_models import (
    CHECKLIST,
    EnforcementNotice,
    InspectionGroup,
    InspectionRound,
    Interview,
    PatrolSite,
    PlannedVisit,
    Sanction,
    Visit,
)
from tests.institutions.helpers import make_institution
from tests.post_routes import Case, case, staff_of

REFUSED = ("anonymous", "school", "bureau_homework")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _today():
    return timezone.localdate()


def _setup(w):
    staff = staff_of("校外培训", "xiaowai")
    inst = make_institution(staff, w.school_a.district, name="启航数学培训学校")
    return staff, inst


def _round(staff):
    today = _today()
    return enforcement.round_create(actor=staff, name="秋季专项整治", starts_on=today,
                                    ends_on=today + dt.timedelta(days=30))  # fmt: skip


def _visit(staff, inst, **failed):
    results = {c.value: (True, "") for c in CHECKLIST}
    results.update(failed)
    return enforcement.visit_record(
        actor=staff, institution_id=inst.pk, date=_today(), results=results
    )


@case("enforcement:rounds", refused=REFUSED)
def rounds(w):
    staff, _inst = _setup(w)
    today = _today().isoformat()
    return Case(
        url=reverse("enforcement:rounds"),
        user=staff,
        valid={"name": "秋季专项整治", "starts_on": today, "ends_on": today},
        state=lambda: list(InspectionRound.objects.values_list("name", flat=True)),
        audit="institutions.inspection.round_created",
        invalid={"name": "秋季专项整治", "starts_on": today, "ends_on": "2020-01-01"},
        error="结束日期不能早于开始日期",
    )


@case("enforcement:round", refused=REFUSED)
def round_group(w):
    staff, _inst = _setup(w)
    rnd = _round(staff)
    return Case(
        url=reverse("enforcement:round", args=[rnd.pk]),
        user=staff,
        valid={"name": "第一组", "inspectors": [staff.pk]},
        state=lambda: list(InspectionGroup.objects.values_list("name", flat=True)),
        audit="institutions.inspection.group_added",
        invalid={"name": "第一组"},
        error="检查组至少要有一名检查人员",
    )


@case("enforcement:round_draw", refused=REFUSED)
def round_draw(w):
    staff, inst = _setup(w)
    rnd = _round(staff)
    return Case(
        url=reverse("enforcement:round_draw", args=[rnd.pk]),
        user=staff,
        valid={"district": inst.district_id, "count": "1", "seed": "42"},
        state=lambda: list(PlannedVisit.objects.values_list("institution", flat=True)),
        audit="institutions.inspection.drawn",
        invalid={"district": inst.district_id, "category": "non_subject"},
        error="所选范围内没有可检查的培训机构",
    )


def _visit_data(**overrides):
    data = {"date": _today().isoformat(), "note": "现场检查"}
    for c in CHECKLIST:
        data[f"result_{c.value}"] = "pass"
        data[f"note_{c.value}"] = ""
    data.update(overrides)
    return data


@case("enforcement:visit_new", refused=REFUSED)
def visit_new(w):
    staff, inst = _setup(w)
    invalid = _visit_data()
    del invalid["result_safety"]
    return Case(
        url=reverse("enforcement:visit_new", args=[inst.pk]),
        user=staff,
        valid=_visit_data(result_fees="fail", note_fees="未公示收费标准"),
        files=lambda: {"photos_fees": SimpleUploadedFile("收费公示.png", PNG)},
        state=lambda: list(Visit.objects.values_list("institution", "date")),
        audit="institutions.inspection.visited",
        invalid=invalid,
        error="以下项目未填写：消防与场地",
    )


@case("enforcement:patrols", refused=REFUSED)
def patrols(w):
    staff, inst = _setup(w)
    data = {"name": "某小区无证补习点", "address": "幸福路1号3栋", "district": inst.district_id,
            "found_on": _today().isoformat(), "outcome": "closed"}  # fmt: skip
    return Case(
        url=reverse("enforcement:patrols"),
        user=staff,
        valid=data,
        state=lambda: list(PatrolSite.objects.values_list("address", "outcome")),
        audit="institutions.inspection.patrol_recorded",
        invalid={**data, "outcome": "handed_over"},
        error="移交时须填写接收部门",
    )


@case("enforcement:interview_new", refused=REFUSED)
def interview_new(w):
    staff, inst = _setup(w)
    today = _today()
    data = {"date": today.isoformat(), "attendees": "法定代表人张某", "problems": "超时培训",
            "deadline": (today + dt.timedelta(days=15)).isoformat()}  # fmt: skip
    return Case(
        url=reverse("enforcement:interview_new", args=[inst.pk]),
        user=staff,
        valid=data,
        state=lambda: list(Interview.objects.values_list("date", "deadline")),
        audit="institutions.enforcement.interviewed",
        invalid={**data, "deadline": (today - dt.timedelta(days=1)).isoformat()},
        error="不能早于约谈日期",
    )


@case("enforcement:sanction_new", refused=REFUSED)
def sanction_new(w):
    staff, inst = _setup(w)
    v = _visit(staff, inst, hours=(False, "21:00 仍在上课"))
    today = _today()
    data = {"kind": "rectify", "decided_on": today.isoformat(), "reason": "超时培训",
            "deadline": (today + dt.timedelta(days=10)).isoformat(), "visit": v.pk}  # fmt: skip
    return Case(
        url=reverse("enforcement:sanction_new", args=[inst.pk]),
        user=staff,
        valid=data,
        state=lambda: list(Sanction.objects.values_list("kind", "deadline")),
        audit="institutions.sanction.rectify",
        invalid={**data, "visit": ""},
        error="处理决定须注明来源",
    )


@case("enforcement:sanction_close", refused=REFUSED)
def sanction_close(w):
    staff, inst = _setup(w)
    v = _visit(staff, inst, hours=(False, "21:00 仍在上课"))
    today = _today()
    s = enforcement.sanction_decide(
        actor=staff, institution_id=inst.pk, kind="rectify", decided_on=today, reason="超时",
        deadline=today + dt.timedelta(days=10), visit_id=v.pk,
    )  # fmt: skip
    return Case(
        url=reverse("enforcement:sanction_close", args=[s.pk]),
        user=staff,
        valid={"closed_on": today.isoformat(), "note": "复查合格"},
        state=lambda: list(Sanction.objects.values_list("closed_on", flat=True)),
        audit="institutions.sanction.closed",
        invalid={"closed_on": today.isoformat(), "note": ""},
        error="请填写整改完成情况",
    )


@case("enforcement:notice_new", refused=REFUSED)
def notice_new(w):
    staff, inst = _setup(w)
    v = _visit(staff, inst, hours=(False, "21:00 仍在上课"))
    enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="warning",
                                decided_on=_today(), reason="超时培训", visit_id=v.pk)  # fmt: skip
    data = {"title": "第一期查处通报", "date": _today().isoformat(), "body": "",
            f"violation_{inst.pk}": "超时培训", f"outcome_{inst.pk}": "警告"}  # fmt: skip
    return Case(
        url=reverse("enforcement:notice_new"),
        user=staff,
        valid={**data, "include": [inst.pk]},
        state=lambda: list(EnforcementNotice.objects.values_list("title", flat=True)),
        audit="institutions.enforcement.notice_published",
        invalid=data,
        error="通报须至少列出一家机构",
    )
