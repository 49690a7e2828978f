"""The people register (志愿者与社会资源人员, afterschool/people.py): who registers whom, the
vetting periods at their boundaries, naming people on courses and lessons, the publishing
gate, the flag on scheduled lessons, hours served, the nightly checks and the panel."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from afterschool import operations
from afterschool import people as svc
from afterschool.models import Lesson, LessonPerson, Offering, OfferingPerson, Person
from portal.compliance import run_checks
from portal.models import AuditLog, Finding
from tests.afterschool.helpers import offering
from tests.factories import SiteOperatorFactory
from tests.post_routes import staff_of

TODAY = timezone.localdate()


def vetted(**over):
    """Vetting dates all valid today (a month old)."""
    on = TODAY - dt.timedelta(days=30)
    return {"no_criminal_record_on": on, "health_cert_on": on, "trained_on": on} | over


def person(world, name="王老师", user=None, **over):
    fields = {"kind": "retired_teacher", "phone": "13900001111"} | vetted(**over)
    return svc.person_create(user=user or world.principal_a, name=name, **fields)


def lesson(course, day, start=dt.time(15, 30), end=dt.time(16, 30), **kw):
    return Lesson.objects.create(
        offering=course, planned_date=day, date=day, start=start, end=end, **kw
    )


# --- who registers whom -----------------------------------------------------------------------


def test_a_school_manager_registers_to_their_school_and_it_is_audited(world):
    p = person(world)
    assert p.school == world.school_a and p.site is None and p.by == world.principal_a
    assert p.district == world.school_a.district
    assert AuditLog.objects.filter(action="afterschool.person.registered").count() == 1


def test_a_site_operator_registers_to_their_site_and_the_bureau_to_the_pool(world):
    op = SiteOperatorFactory(site__partner_school=world.school_a)
    p = person(world, user=op.user)
    assert p.site == op.site and p.school is None
    bureau = staff_of("课后服务", "bureau_as")
    pooled = svc.person_create(user=bureau, name="李教练", kind="coach", venue="区体育馆")
    assert pooled.school is None and pooled.site is None and pooled.organisation == "区体育馆"


@pytest.mark.parametrize("who", ["teacher_a", "parent_a", "bureau"])
def test_a_teacher_a_parent_and_other_lines_bureau_staff_may_not_register(world, who):
    with pytest.raises(PermissionDenied):
        person(world, user=getattr(world, who))
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", " ", "请填写姓名。"),
        ("phone", "12ab", "联系电话应为 7 至 20 位数字。"),
        ("trained_on", TODAY + dt.timedelta(days=1), "安全培训日期不能晚于今天"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_written(world, field, value, message):
    with pytest.raises(ValidationError) as exc:
        person(world, **{field: value})
    assert message in exc.value.message_dict[field][0]
    assert not Person.objects.exists() and not AuditLog.objects.exists()


def test_another_schools_manager_cannot_change_a_person(world):
    p = person(world)
    with pytest.raises(Person.DoesNotExist):
        svc.person_update(user=world.principal_b, person_id=p.pk, name="改名")
    svc.person_update(user=world.principal_a, person_id=p.pk, name="王老师（退休）")
    assert Person.objects.get(pk=p.pk).name == "王老师（退休）"
    assert AuditLog.objects.filter(action="afterschool.person.updated").count() == 1


# --- vetting periods at their boundaries ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label", "setting"),
    [
        ("no_criminal_record_on", "无犯罪记录证明", "PEOPLE_NO_CRIMINAL_RECORD_MONTHS"),
        ("health_cert_on", "健康证明", "PEOPLE_HEALTH_CERT_MONTHS"),
        ("trained_on", "安全培训", "PEOPLE_TRAINING_MONTHS"),
    ],
)
@pytest.mark.parametrize("months", [12, 6])
def test_each_record_is_valid_for_its_settings_months_and_not_a_day_more(
    world, settings, field, label, setting, months
):
    setattr(settings, setting, months)
    last_valid = TODAY - relativedelta(months=months) + dt.timedelta(days=1)
    p = person(world, **{field: last_valid})
    assert svc.lapses(p, TODAY) == []  # valid through today
    p = person(world, name="赵老师", **{field: last_valid - dt.timedelta(days=1)})
    assert svc.lapses(p, TODAY) == [
        f"赵老师的{label}（{last_valid - dt.timedelta(days=1)}）已于 "
        f"{TODAY - dt.timedelta(days=1)} 过期（有效期 {months} 个月）"
    ]


def test_a_missing_record_is_a_lapse(world):
    p = person(world, health_cert_on=None)
    assert svc.lapses(p, TODAY) == ["王老师的健康证明未登记"]
    assert svc.vetting_state(p, TODAY) == "lapsed"


def test_expiring_within_the_warning_days(world, settings):
    settings.PEOPLE_VETTING_WARN_DAYS = 30
    # valid until today + 29: inside the warning; until today + 30: not yet
    inside = person(world, trained_on=TODAY + dt.timedelta(days=30) - relativedelta(months=12))
    outside = person(world, name="钱", trained_on=TODAY + dt.timedelta(days=31) - relativedelta(
        months=12))  # fmt: skip
    assert svc.valid_until("trained_on", inside.trained_on) == TODAY + dt.timedelta(days=29)
    assert svc.vetting_state(inside, TODAY) == "expiring"
    assert svc.vetting_state(outside, TODAY) == "valid"


# --- naming people on courses -----------------------------------------------------------------


@pytest.fixture
def draft(world):
    return offering(world.school_a, status=Offering.Status.DRAFT)


def test_a_lapsed_person_cannot_be_named_and_the_refusal_names_the_record(world, draft):
    old = TODAY - relativedelta(months=13)
    p = person(world, no_criminal_record_on=old)
    with pytest.raises(ValidationError) as exc:
        svc.offering_person_add(user=world.principal_a, offering_id=draft.pk, person_id=p.pk)
    message = exc.value.message_dict["person"][0]
    assert "无犯罪记录证明" in message and str(old) in message
    assert not OfferingPerson.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="afterschool.offering.").exists()


def test_a_vetted_person_is_named_once_and_audited(world, draft):
    p = person(world)
    svc.offering_person_add(user=world.principal_a, offering_id=draft.pk, person_id=p.pk)
    svc.offering_person_add(user=world.principal_a, offering_id=draft.pk, person_id=p.pk)
    assert OfferingPerson.objects.filter(offering=draft, person=p).count() == 1
    assert AuditLog.objects.filter(action="afterschool.offering.person_added").count() == 1
    svc.offering_person_remove(user=world.principal_a, offering_id=draft.pk, person_id=p.pk)
    assert not OfferingPerson.objects.exists()


def test_another_schools_person_and_a_teacher_are_refused(world, draft):
    theirs = person(world, user=world.principal_b, name="乙校志愿者")
    with pytest.raises(ValidationError, match="不在本校"):
        svc.offering_person_add(user=world.principal_a, offering_id=draft.pk, person_id=theirs.pk)
    mine = person(world)
    with pytest.raises(PermissionDenied):
        svc.offering_person_add(user=world.teacher_a, offering_id=draft.pk, person_id=mine.pk)
    assert not OfferingPerson.objects.exists()


def test_the_districts_pool_is_open_to_every_school(world, draft):
    bureau = staff_of("课后服务", "bureau_as")
    pooled = svc.person_create(user=bureau, name="李教练", kind="coach", **vetted())
    svc.offering_person_add(user=world.principal_a, offering_id=draft.pk, person_id=pooled.pk)
    assert draft.people.get().person == pooled


def test_a_new_course_names_people_from_the_register_or_is_not_created(world, draft):
    lapsed = person(world, trained_on=None)
    fields = {
        "plan": draft.plan, "name": "国画", "kind": "enrichment", "grades": [3],
        "capacity": 10, "weekday": 1, "start": dt.time(15, 30), "end": dt.time(16, 30),
    }  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        operations.offering_create(user=world.principal_a, people=[lapsed], **fields)
    assert "安全培训未登记" in exc.value.message_dict["people"][0]
    assert not Offering.objects.filter(name="国画").exists()
    ok = person(world, name="孙老师")
    course = operations.offering_create(user=world.principal_a, people=[ok], **fields)
    assert [r.person for r in course.people.all()] == [ok]


def test_a_course_with_a_lapsed_person_does_not_publish(world, draft):
    p = person(world)
    svc.offering_person_add(user=world.principal_a, offering_id=draft.pk, person_id=p.pk)
    Person.objects.filter(pk=p.pk).update(health_cert_on=TODAY - relativedelta(months=13))
    with pytest.raises(ValidationError) as exc:
        operations.offering_publish(user=world.principal_a, offering_id=draft.pk)
    assert any("王老师的健康证明" in m for m in exc.value.messages)
    assert Offering.objects.get(pk=draft.pk).status == Offering.Status.DRAFT


# --- scheduled lessons flagged ----------------------------------------------------------------


def test_a_scheduled_lesson_after_the_expiry_is_flagged_on_the_course_page_and_nightly(
    world, client_for
):
    course = offering(world.school_a)
    # valid today, expires in ten days: the lesson in twenty days is taught by a lapsed person
    p = person(world, trained_on=TODAY + dt.timedelta(days=10) - relativedelta(months=12))
    svc.offering_person_add(user=world.principal_a, offering_id=course.pk, person_id=p.pk)
    soon = lesson(course, TODAY + dt.timedelta(days=3))
    late = lesson(course, TODAY + dt.timedelta(days=20))
    flags = svc.flagged_lessons([course], TODAY)
    assert [(lsn.pk, who.pk) for lsn, who, _r in flags] == [(late.pk, p.pk)]
    assert soon.pk not in {lsn.pk for lsn, _p, _r in flags}
    page = client_for(world.principal_a).get(f"/afterschool/offerings/{course.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="lesson-flag"' in html and "安全培训" in html
    run_checks(for_date=TODAY, rules=["afterschool.people.lesson_flagged"])
    finding = Finding.objects.get(rule="afterschool.people.lesson_flagged")
    assert finding.resolved_at is None and "王老师" in finding.message
    # a substitute with valid vetting takes that lesson: the flag and the finding go
    sub = person(world, name="周老师")
    svc.lesson_person_add(user=world.principal_a, lesson_id=late.pk, person_id=sub.pk)
    assert svc.flagged_lessons([course], TODAY) == []
    run_checks(for_date=TODAY, rules=["afterschool.people.lesson_flagged"])
    assert Finding.objects.get(pk=finding.pk).resolved_at is not None


def test_a_lapsed_substitute_is_refused_for_the_lessons_day(world):
    course = offering(world.school_a)
    p = person(world, trained_on=TODAY + dt.timedelta(days=10) - relativedelta(months=12))
    late = lesson(course, TODAY + dt.timedelta(days=20))
    with pytest.raises(ValidationError, match="安全培训"):
        svc.lesson_person_add(user=world.principal_a, lesson_id=late.pk, person_id=p.pk)
    assert not LessonPerson.objects.exists()


# --- hours served -----------------------------------------------------------------------------


def test_hours_count_held_lessons_for_the_people_who_taught_them(world, client_for):
    course = offering(world.school_a)
    lead, sub = person(world), person(world, name="周老师")
    svc.offering_person_add(user=world.principal_a, offering_id=course.pk, person_id=lead.pk)
    day = course.plan.term.start
    held = lesson(course, day, status=Lesson.Status.HELD)  # 60 min, the course's people
    covered = lesson(course, day + dt.timedelta(days=7), end=dt.time(17, 0),
                     status=Lesson.Status.HELD)  # fmt: skip
    LessonPerson.objects.create(lesson=covered, person=sub)  # 90 min, the substitute
    lesson(course, day + dt.timedelta(days=14))  # not held: no hours
    assert held.pk
    hours = svc.hours_by_person(Lesson.objects.all())
    term = course.plan.term_id
    assert hours == {lead.pk: {term: 60}, sub.pk: {term: 90}}
    rows = svc.person_hours(sub)
    assert [(r["term"].pk, r["lessons"], r["minutes"]) for r in rows] == [(term, 1, 90)]
    page = client_for(world.principal_a).get(f"/people/{sub.pk}/certificate/{term}/")
    assert page.status_code == 200 and "服务时长 1.5 小时" in page.content.decode()
    assert (
        client_for(world.principal_b).get(f"/people/{sub.pk}/certificate/{term}/").status_code
        == 404
    )


# --- pages and scope --------------------------------------------------------------------------


def test_the_register_shows_masked_phones_and_hides_other_registers(world, client_for):
    mine = person(world)
    theirs = person(world, user=world.principal_b, name="乙校志愿者")
    page = client_for(world.principal_a).get("/people/").content.decode()
    assert "王老师" in page and "乙校志愿者" not in page
    assert "139****1111" in page and "13900001111" not in page
    detail = client_for(world.principal_a).get(f"/people/{mine.pk}/").content.decode()
    assert "139****1111" in detail and "13900001111" not in detail  # not even in the form
    assert client_for(world.principal_a).get(f"/people/{theirs.pk}/").status_code == 404
    assert client_for(world.parent_a).get("/people/").status_code == 403
    assert client_for(world.teacher_a).get(f"/people/{mine.pk}/").status_code == 403


def test_the_bureaus_overview_counts_people_by_vetting_state(world, client_for):
    person(world)
    person(world, name="过期者", no_criminal_record_on=None)
    bureau = staff_of("课后服务", "bureau_as")
    page = client_for(bureau).get(f"/people/overview/?district={world.school_a.district_id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "过期者" in html and "审查失效" in html
    assert client_for(world.principal_a).get("/people/overview/").status_code == 403


# --- nightly checks and the panel -------------------------------------------------------------


def test_the_vetting_findings_warn_before_and_are_serious_after(world, settings):
    settings.PEOPLE_VETTING_WARN_DAYS = 30
    course = offering(world.school_a, status=Offering.Status.DRAFT)
    soon = person(world, trained_on=TODAY + dt.timedelta(days=5) - relativedelta(months=12))
    svc.offering_person_add(user=world.principal_a, offering_id=course.pk, person_id=soon.pk)
    rules = ["afterschool.people.vetting_expiring", "afterschool.people.vetting_lapsed"]
    run_checks(for_date=TODAY, rules=rules)
    warn = Finding.objects.get(rule="afterschool.people.vetting_expiring")
    assert warn.resolved_at is None and "安全培训将于" in warn.message
    assert not Finding.objects.filter(rule="afterschool.people.vetting_lapsed").exists()
    later = TODAY + dt.timedelta(days=6)
    run_checks(for_date=later, rules=rules)
    lapsed = Finding.objects.get(rule="afterschool.people.vetting_lapsed")
    assert lapsed.resolved_at is None and lapsed.severity == Finding.Severity.SERIOUS
    assert Finding.objects.get(pk=warn.pk).resolved_at is not None
    svc.person_update(user=world.principal_a, person_id=soon.pk, trained_on=TODAY)
    run_checks(for_date=later, rules=rules)
    assert Finding.objects.get(pk=lapsed.pk).resolved_at is not None


def test_the_panel_counts_states_and_hours_in_two_queries(world, django_assert_num_queries):
    from portal.dashboard import Filters, registry

    course = offering(world.school_a)
    for i in range(5):
        p = person(world, name=f"志愿者{i}", trained_on=None if i == 0 else vetted()["trained_on"])
        OfferingPerson.objects.create(offering=course, person=p)
    lesson(course, TODAY.replace(day=1), status=Lesson.Status.HELD)
    spec = next(s for s in registry() if s.key == "afterschool.people")
    f = Filters(district=world.school_a.district, month=TODAY.strftime("%Y-%m"))
    with django_assert_num_queries(2):
        result = spec.func(f)
    values = {b.label: b.value for b in result.series[0].bars}
    assert values == {"审查有效": 4, "即将到期": 0, "审查失效": 1}
    assert ("本月服务时长", "5.0 小时") in result.figures


# --- the full phone number -------------------------------------------------------------------


def test_the_full_number_is_shown_only_with_the_permission_and_each_time_audited(world, client_for):
    from django.contrib.auth.models import Permission

    p = person(world)
    bureau = staff_of("课后服务", "bureau_as")
    assert client_for(bureau).get(f"/people/{p.pk}/phone/").status_code == 403
    with pytest.raises(PermissionDenied):
        svc.person_phone_show(actor=world.principal_a, person_id=p.pk)
    bureau.user_permissions.add(Permission.objects.get(codename="view_parent_phone"))
    bureau = type(bureau).objects.get(pk=bureau.pk)  # a fresh permission cache
    client = client_for(bureau)
    assert "13900001111" not in client.get(f"/people/{p.pk}/phone/").content.decode()
    response = client.post(f"/people/{p.pk}/phone/")
    assert "13900001111" in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert AuditLog.objects.filter(action="afterschool.person.phone_shown").count() == 1


def test_the_demo_builds_through_the_services_once(world):
    from afterschool import people_demo
    from portal.models import SchoolStaff

    SchoolStaff.objects.filter(user=world.principal_a).update(school=world.school_a)
    world.principal_a.username = "principal_shiyan"
    world.principal_a.save(update_fields=["username"])
    lines = people_demo.build()
    assert len(lines) == 3 and Person.objects.count() == 3
    assert people_demo.build() == []
    states = {p.name: svc.vetting_state(p, TODAY) for p in Person.objects.all()}
    assert states == {"周建国": "valid", "林晓": "valid", "黄教练": "expiring"}


def test_the_bureau_registers_to_the_pool_of_a_district_and_the_admin_only_lists(
    world, client_for, admin_client
):
    bureau = staff_of("课后服务", "bureau_as")
    response = client_for(bureau).post("/people/new/", {
        "name": "李教练", "kind": "coach", "phone": "13900002222", "venue": "区体育馆",
        "district": world.school_a.district_id,
    })  # fmt: skip
    assert response.status_code == 302
    pooled = Person.objects.get(name="李教练")
    assert pooled.school is None and pooled.district == world.school_a.district
    listing = admin_client.get("/admin/afterschool/person/")
    assert listing.status_code == 200 and "139****2222" in listing.content.decode()
    assert "13900002222" not in listing.content.decode()
    assert admin_client.get("/admin/afterschool/person/add/").status_code == 403
