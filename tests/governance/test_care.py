"""The care ledger (关爱帮扶 一人一档): who reads a record, audited reads, visits and their
frequency rule, the nightly finding, the bureau's counts."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from governance import care
from governance import care_selectors as sel
from governance.care_models import CareContact, CareRecord, CareStaff
from portal.compliance import run_checks
from portal.models import AuditLog, Finding
from tests.governance.care_helpers import head_of, open_record, other_class, term_around_today

TODAY = timezone.localdate()
RULE = "governance.care.visits_overdue"


@pytest.fixture
def cw(world):
    """The world with a term around today, a head teacher of class A and one record."""
    world.term = term_around_today(world.school_a.district)
    world.head = head_of(world.class_a, "bzr_a", "一班班主任")
    world.record = open_record(world)
    return world


def _visit(w, record=None, day=None, form="visit", actor=None):
    return care.contact_log(
        actor=actor or w.head, record_id=(record or w.record).pk, date=day or TODAY, form=form,
        notes="到家中了解学习生活情况",
    )  # fmt: skip


# --- who reads a record --------------------------------------------------------------------


def test_the_head_teacher_reads_their_pupils_record_and_the_read_is_audited(cw, client_for):
    before = AuditLog.objects.filter(action="governance.care.read").count()
    r = client_for(cw.head).get(reverse("care:detail", args=[cw.record.pk]))
    assert r.status_code == 200
    assert "甲同学" in r.content.decode()
    reads = AuditLog.objects.filter(action="governance.care.read", object_id=str(cw.record.pk))
    assert reads.count() == before + 1
    assert reads.last().actor == cw.head


def test_the_list_is_not_a_read_of_each_record_but_the_contact_form_is(cw, client_for):
    c = client_for(cw.head)
    before = AuditLog.objects.filter(action="governance.care.read").count()
    assert c.get(reverse("care:index")).status_code == 200
    assert AuditLog.objects.filter(action="governance.care.read").count() == before
    assert c.get(reverse("care:contact", args=[cw.record.pk])).status_code == 200
    assert AuditLog.objects.filter(action="governance.care.read").count() == before + 1


def test_a_head_teacher_of_another_class_gets_a_404_and_no_read_is_recorded(cw, client_for):
    _klass, other_head, _child = other_class(cw)
    c = client_for(other_head)
    before = AuditLog.objects.count()
    for name in ("care:detail", "care:contact", "care:edit"):
        assert c.get(reverse(name, args=[cw.record.pk])).status_code == 404, name
    assert AuditLog.objects.count() == before
    assert "甲同学" not in c.get(reverse("care:index")).content.decode()


@pytest.mark.parametrize("who", ["teacher_a", "bureau", "parent_a"])
def test_users_outside_the_three_roles_get_a_403(cw, client_for, who):
    c = client_for(getattr(cw, who))
    for url in (reverse("care:index"), reverse("care:detail", args=[cw.record.pk]),
                reverse("care:new"), reverse("care:contact", args=[cw.record.pk])):  # fmt: skip
        assert c.get(url).status_code == 403, url


def test_another_schools_principal_gets_a_404_on_the_record(cw, client_for):
    r = client_for(cw.principal_b).get(reverse("care:detail", args=[cw.record.pk]))
    assert r.status_code == 404


def test_anonymous_is_sent_to_the_login_page(cw, client_for):
    r = client_for(None).get(reverse("care:detail", args=[cw.record.pk]))
    assert r.status_code == 302 and "/login" in r["Location"]


def test_bureau_staff_never_read_a_record_even_through_the_service(cw):
    with pytest.raises(PermissionDenied):
        care.record_read(actor=cw.bureau, record_id=cw.record.pk)
    assert list(sel.visible_records(cw.bureau)) == []


def test_designated_care_staff_read_every_record_of_the_school(cw, client_for):
    _klass, _head_b, child_b2 = other_class(cw)
    second = open_record(cw, child=child_b2)
    url = reverse("care:detail", args=[second.pk])
    assert client_for(cw.teacher_a).get(url).status_code == 403
    care.care_staff_designate(actor=cw.principal_a, staff_id=cw.teacher_a.school_staff.pk)
    assert client_for(cw.teacher_a).get(url).status_code == 200
    assert set(sel.visible_records(cw.teacher_a)) == {cw.record, second}
    care.care_staff_remove(actor=cw.principal_a, staff_id=cw.teacher_a.school_staff.pk)
    assert client_for(cw.teacher_a).get(url).status_code == 403


def test_only_the_principal_designates_care_staff(cw):
    staff_id = cw.teacher_a.school_staff.pk
    for actor in (cw.head, cw.teacher_a, cw.bureau, cw.parent_a):
        with pytest.raises(PermissionDenied):
            care.care_staff_designate(actor=actor, staff_id=staff_id)
    assert not CareStaff.objects.exists()


def test_a_principal_cannot_designate_another_schools_staff(cw):
    with pytest.raises(ValidationError) as exc:
        care.care_staff_designate(actor=cw.principal_b, staff_id=cw.teacher_a.school_staff.pk)
    assert "本校教职工" in str(exc.value)
    assert not CareStaff.objects.exists()


# --- opening and changing a record ---------------------------------------------------------


def test_a_head_teacher_opens_records_only_for_their_own_class(cw):
    _klass, _head_b, child_b2 = other_class(cw)
    with pytest.raises(ValidationError) as exc:
        care.record_open(actor=cw.head, child_id=child_b2.pk, categories=["困难家庭"])
    assert "本班或本校" in str(exc.value)
    with pytest.raises(ValidationError):
        care.record_open(actor=cw.principal_a, child_id=cw.child_b.pk, categories=["困难家庭"])
    assert CareRecord.objects.count() == 1


def test_a_pupil_has_one_record(cw):
    with pytest.raises(ValidationError) as exc:
        care.record_open(actor=cw.principal_a, child_id=cw.child_a.pk, categories=["困难家庭"])
    assert "已有关爱档案" in str(exc.value)


@pytest.mark.parametrize(
    "categories, message", [([], "至少选择一项"), (["单亲家庭"], "不在区教育局设定的类别中")]
)
def test_categories_come_from_the_setting(cw, categories, message):
    _klass, head_b, child_b2 = other_class(cw)
    with pytest.raises(ValidationError) as exc:
        care.record_open(actor=head_b, child_id=child_b2.pk, categories=categories)
    assert message in str(exc.value)
    assert not CareRecord.objects.filter(child=child_b2).exists()


def test_a_district_adds_a_category_by_setting(cw, settings):
    settings.PORTAL_CARE_CATEGORIES = [*settings.PORTAL_CARE_CATEGORIES, "单亲家庭"]
    _klass, head_b, child_b2 = other_class(cw)
    record = care.record_open(actor=head_b, child_id=child_b2.pk, categories=["单亲家庭"])
    assert record.categories == ["单亲家庭"]


def test_the_open_form_refuses_an_empty_choice_and_keeps_what_was_typed(cw, client_for):
    _klass, head_b, child_b2 = other_class(cw)
    r = client_for(head_b).post(reverse("care:new"), {"child": child_b2.pk, "need": "需要辅导"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "关爱类别" in body and "需要辅导" in body
    assert not CareRecord.objects.filter(child=child_b2).exists()


def test_an_update_is_audited_with_old_and_new(cw):
    care.record_update(
        actor=cw.head, record_id=cw.record.pk, categories=["留守儿童", "心理关注"], need="x"
    )
    row = AuditLog.objects.get(action="governance.care.updated")
    assert row.old["categories"] == ["留守儿童"]
    assert row.new["categories"] == ["留守儿童", "心理关注"]


def test_only_the_principal_or_care_staff_close_a_record(cw):
    with pytest.raises(PermissionDenied):
        care.record_close(actor=cw.head, record_id=cw.record.pk)
    care.record_close(actor=cw.principal_a, record_id=cw.record.pk)
    cw.record.refresh_from_db()
    assert cw.record.closed_on == TODAY
    with pytest.raises(ValidationError):
        _visit(cw)


# --- visits and talks ----------------------------------------------------------------------


def test_a_visit_is_logged_and_audited(cw):
    row = _visit(cw)
    assert row.by == cw.head.school_staff and row.form == CareContact.Form.VISIT
    assert AuditLog.objects.filter(action="governance.care.contact_logged").count() == 1


def test_a_visit_tomorrow_is_refused_today_is_not(cw):
    with pytest.raises(ValidationError) as exc:
        _visit(cw, day=TODAY + dt.timedelta(days=1))
    assert "不能晚于今天" in str(exc.value)
    _visit(cw, day=TODAY)
    assert CareContact.objects.count() == 1


def test_a_visit_needs_notes_and_a_known_form(cw):
    with pytest.raises(ValidationError) as exc:
        care.contact_log(actor=cw.head, record_id=cw.record.pk, date=TODAY, form="信件",
                         notes=" ")  # fmt: skip
    assert set(exc.value.message_dict) == {"form", "notes"}
    assert not CareContact.objects.exists()


def test_a_visit_by_staff_of_another_school_is_refused(cw):
    with pytest.raises(ValidationError) as exc:
        care.contact_log(actor=cw.head, record_id=cw.record.pk, date=TODAY, form="visit",
                         notes="家访", by_id=cw.principal_b.school_staff.pk)  # fmt: skip
    assert "走访教师" in str(exc.value)


def test_another_class_cannot_log_on_the_record(cw):
    _klass, head_b, _child = other_class(cw)
    with pytest.raises(Http404):
        _visit(cw, actor=head_b)


# --- the frequency rule ---------------------------------------------------------------------


def test_the_first_visit_is_due_within_the_setting_days_of_the_terms_start(cw, settings):
    term = cw.term
    first = term.start + dt.timedelta(days=settings.PORTAL_CARE_FIRST_VISIT_DAYS)
    assert sel.due_dates(term, term.start - dt.timedelta(days=10), 1) == [first]
    on_due = sel.standing(term, cw.record.__class__(categories=["留守儿童"], opened_on=term.start),
                          0, first)  # fmt: skip
    assert not on_due.overdue
    after = sel.standing(term, cw.record.__class__(categories=["留守儿童"], opened_on=term.start),
                         0, first + dt.timedelta(days=1))  # fmt: skip
    assert after.overdue and after.needed == 1


def test_special_pupils_need_three_visits_spread_over_the_term(cw):
    term = cw.term
    dates = sel.due_dates(term, term.start, 3)
    assert len(dates) == 3 and dates[0] < dates[1] < dates[2] < term.end
    special = CareRecord(categories=["心理关注"], opened_on=term.start)
    s = sel.standing(term, special, 1, dates[1] + dt.timedelta(days=1))
    assert s.needed == 3 and s.due_by_now == 2 and s.overdue
    assert not sel.standing(term, special, 2, dates[1] + dt.timedelta(days=1)).overdue


def test_a_record_opened_mid_term_gets_its_own_grace(cw, settings):
    term = cw.term
    opened = term.start + dt.timedelta(days=50)
    assert sel.due_dates(term, opened, 1) == [
        opened + dt.timedelta(days=settings.PORTAL_CARE_FIRST_VISIT_DAYS)
    ]


def test_only_the_forms_of_the_setting_count_as_visits(cw, settings):
    _visit(cw, form="phone")
    counts, _term = sel.school_counts(cw.school_a.district_id, TODAY)
    a = next(c for c in counts if c.school == cw.school_a)
    assert a.owed == 1
    settings.PORTAL_CARE_VISIT_FORMS = ["visit", "phone"]
    counts, _term = sel.school_counts(cw.school_a.district_id, TODAY)
    assert next(c for c in counts if c.school == cw.school_a).owed == 0


# --- the nightly finding --------------------------------------------------------------------


def _late_day(w):
    return w.record.opened_on + dt.timedelta(days=31)


def test_an_overdue_visit_is_a_finding_about_the_school_with_counts_only(cw):
    run_checks(for_date=_late_day(cw) - dt.timedelta(days=1), rules=[RULE])
    assert not Finding.objects.filter(rule=RULE).exists()  # on the due day: not yet
    run_checks(for_date=_late_day(cw), rules=[RULE])
    f = Finding.objects.get(rule=RULE)
    assert f.school == cw.school_a and f.resolved_at is None
    assert "甲小学" in f.message and "1 名" in f.message
    assert "甲同学" not in f.message and "甲同学" not in f.subject_repr


def test_the_finding_resolves_at_the_next_run_after_the_visit(cw):
    day = _late_day(cw)
    run_checks(for_date=day, rules=[RULE])
    _visit(cw)
    run_checks(for_date=day, rules=[RULE])
    assert Finding.objects.get(rule=RULE).resolved_at is not None


def test_nothing_is_due_outside_a_term(cw):
    run_checks(for_date=cw.term.end + dt.timedelta(days=1), rules=[RULE])
    assert not Finding.objects.filter(rule=RULE).exists()


def test_a_special_pupil_with_one_visit_is_still_overdue_later_in_the_term(cw):
    care.record_update(actor=cw.head, record_id=cw.record.pk, categories=["残疾/随班就读"])
    _visit(cw)
    dates = sel.due_dates(cw.term, cw.record.opened_on, 3)
    run_checks(for_date=dates[1] + dt.timedelta(days=1), rules=[RULE])
    assert "特殊类别 1 名" in Finding.objects.get(rule=RULE).message


# --- the bureau's counts --------------------------------------------------------------------


def test_the_bureau_sees_counts_per_school_and_no_pupil(cw, client_for):
    r = client_for(cw.bureau).get(reverse("care:overview"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "甲小学" in body and "甲同学" not in body and "父母在外务工" not in body


@pytest.mark.parametrize("who", ["principal_a", "head", "parent_a"])
def test_school_users_and_parents_get_a_403_on_the_overview(cw, client_for, who):
    assert client_for(getattr(cw, who)).get(reverse("care:overview")).status_code == 403


def test_school_counts_are_three_queries_whatever_the_records(cw, django_assert_num_queries):
    for _i in range(5):
        _klass, _head, child = other_class(cw, username=f"h{_i}")
        open_record(cw, child=child, categories=["困难家庭", "心理关注"])
    with django_assert_num_queries(3):
        counts, _term = sel.school_counts(cw.school_a.district_id, TODAY)
    a = next(c for c in counts if c.school == cw.school_a)
    assert a.records == 6 and a.by_category["心理关注"] == 5 and a.special == 5


def test_the_list_page_costs_a_fixed_number_of_queries(cw, client_for,
                                                       django_assert_max_num_queries):  # fmt: skip
    for _i in range(5):
        _klass, _head, child = other_class(cw, username=f"h{_i}")
        open_record(cw, child=child)
    c = client_for(cw.principal_a)
    with django_assert_max_num_queries(12):
        r = c.get(reverse("care:index"))
    assert r.content.decode().count("登记家访") == 6


def test_the_school_pages_open_for_their_users(cw, client_for):
    care.care_staff_designate(actor=cw.principal_a, staff_id=cw.teacher_a.school_staff.pk)
    p = client_for(cw.principal_a)
    for url in (reverse("care:staff"), reverse("care:new"), reverse("care:index"),
                reverse("care:edit", args=[cw.record.pk])):  # fmt: skip
        r = p.get(url)
        assert r.status_code == 200, url
    assert "甲老师" in p.get(reverse("care:staff")).content.decode()
    assert client_for(cw.head).get(reverse("care:staff")).status_code == 403


def test_the_dashboard_panels_show_counts_in_three_queries(cw, django_assert_num_queries):
    from governance.care_dashboard import by_category, visits
    from portal.dashboard import Filters

    for _i in range(3):
        _klass, _head, child = other_class(cw, username=f"p{_i}")
        open_record(cw, child=child, categories=["困难家庭", "心理关注"], opened_on=TODAY)
    CareRecord.objects.filter(pk=cw.record.pk).update(opened_on=TODAY - dt.timedelta(days=40))
    f = Filters(district=cw.school_a.district, month=TODAY.strftime("%Y-%m"))
    with django_assert_num_queries(3):
        cats, vis = by_category(f), visits(f)
    bars = {b.label: b.value for b in cats.series[0].bars}
    assert bars["心理关注"] == 3 and bars["留守儿童"] == 1 and cats.figures == [("建档人数", "4")]
    assert [b.label for b in vis.series[0].bars] == ["甲小学"]
    assert vis.series[0].bars[0].value == 4 and vis.series[1].bars[0].value == 1
    assert "甲同学" not in str(cats.as_chart()) + str(vis.as_chart())
