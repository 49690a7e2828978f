"""POST cases of the care ledger (关爱帮扶 一人一档, /care/): opening and editing a record,
closing it, logging a visit, the principal's designation of care staff."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from governance import care
from governance.care_models import CareContact, CareRecord, CareStaff
from tests.governance.care_helpers import head_of, open_record, other_class, term_around_today
from tests.post_routes import Case, case

# a record's pages: another school's principal → 404, a teacher outside the three roles,
# a parent, bureau staff → 403
RECORD_REFUSED = ("anonymous", "other_school", "teacher", "parent", "stranger_parent",
                  "bureau_homework", "staff_without_group")  # fmt: skip


def _setup(w):
    term_around_today(w.school_a.district)
    head = head_of(w.class_a, "bzr_a", "一班班主任")
    return head, open_record(w)


def _record(pk):
    return lambda: CareRecord.objects.values_list("categories", "need", "closed_on").get(pk=pk)


@case("care:new", refused=("anonymous", "teacher", "parent", "bureau_homework",
                           "staff_without_group"))  # fmt: skip
def new(w):
    _klass, head_b, child = other_class(w)
    return Case(
        url=reverse("care:new"), user=head_b,
        valid={"child": child.pk, "categories": ["留守儿童", "心理关注"], "need": "父母在外"},
        state=lambda: list(CareRecord.objects.values_list("child_id", "categories")),
        audit="governance.care.opened",
        invalid={"child": child.pk, "need": "父母在外"}, error="关爱类别：请至少选择一项。",
    )  # fmt: skip


@case("care:edit", refused=RECORD_REFUSED)
def edit(w):
    head, record = _setup(w)
    _klass, head_b, _child = other_class(w)
    return Case(
        url=reverse("care:edit", args=[record.pk]), user=head,
        valid={"categories": ["困难家庭"], "need": "申请资助"},
        state=_record(record.pk), audit="governance.care.updated",
        invalid={"categories": ["不存在的类别"]}, error="关爱类别：请选择区教育局设定的类别。",
        who={"teacher": head_b},  # another class's head teacher: a 404
    )  # fmt: skip


@case("care:close", refused=RECORD_REFUSED)
def close(w):
    head, record = _setup(w)
    return Case(
        url=reverse("care:close", args=[record.pk]), user=w.principal_a, valid={},
        state=_record(record.pk), audit="governance.care.closed",
        no_invalid="a button without fields", who={"teacher": head},  # a head teacher: 403
    )  # fmt: skip


@case("care:contact", refused=RECORD_REFUSED)
def contact(w):
    head, record = _setup(w)
    _klass, head_b, _child = other_class(w)
    today = timezone.localdate()
    return Case(
        url=reverse("care:contact", args=[record.pk]), user=head,
        valid={"date": today.isoformat(), "form": "visit", "notes": "到家中家访"},
        state=lambda: list(CareContact.objects.values_list("record_id", "form", "date")),
        audit="governance.care.contact_logged",
        invalid={"date": (today + dt.timedelta(days=1)).isoformat(), "form": "visit",
                 "notes": "到家中家访"},
        error="日期：不能晚于今天。", who={"teacher": head_b},
    )  # fmt: skip


STAFF_REFUSED = ("anonymous", "teacher", "parent", "bureau_homework", "staff_without_group")


@case("care:staff_add", refused=STAFF_REFUSED)
def staff_add(w):
    head, _record = _setup(w)
    return Case(
        url=reverse("care:staff_add"), user=w.principal_a,
        valid={"staff": w.teacher_a.school_staff.pk},
        state=lambda: list(CareStaff.objects.values_list("staff_id", flat=True)),
        audit="governance.care.staff_designated",
        invalid={"staff": w.principal_b.school_staff.pk}, error="教职工：请选择本校教职工。",
        who={"teacher": head},
    )  # fmt: skip


@case("care:staff_remove", refused=STAFF_REFUSED)
def staff_remove(w):
    head, _record = _setup(w)
    care.care_staff_designate(actor=w.principal_a, staff_id=w.teacher_a.school_staff.pk)
    return Case(
        url=reverse("care:staff_remove"), user=w.principal_a,
        valid={"staff": w.teacher_a.school_staff.pk},
        state=lambda: list(CareStaff.objects.values_list("staff_id", flat=True)),
        audit="governance.care.staff_removed",
        invalid={"staff": head.school_staff.pk}, error="教职工：该教职工不是关爱帮扶专干。",
        who={"teacher": head},
    )  # fmt: skip
