import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from institutions.models import Course, TrainingPolicy
from institutions.services import course_save, price_cap
from portal.compliance import run_checks
from portal.models import Finding, SchoolPeriod
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db

TERM = {"term_start": dt.date(2026, 11, 2), "term_end": dt.date(2026, 12, 25)}  # Mon-Fri weeks
WEEKDAY_EVENING = [{"weekday": 2, "start": dt.time(18, 30), "end": dt.time(19, 15)}]


@pytest.fixture
def staff(db):
    return training_staff()


@pytest.fixture
def inst(world, staff):
    d = world.school_a.district
    SchoolPeriod.objects.create(
        district=d,
        kind="term",
        name="秋季学期",
        start=dt.date(2026, 9, 1),
        end=dt.date(2027, 1, 22),
    )
    SchoolPeriod.objects.create(
        district=d, kind="summer", name="暑假", start=dt.date(2026, 7, 4), end=dt.date(2026, 8, 31)
    )
    return make_institution(staff, d)


def save(staff, inst, slots=WEEKDAY_EVENING, **overrides):
    data = {
        "name": "初中数学提高班",
        "subject": "数学",
        "mode": "offline",
        "lesson_minutes": 45,
        "class_size": 20,
        "price_per_lesson": Decimal("25.00"),
        **TERM,
        **overrides,
    }
    return course_save(actor=staff, institution=inst, slots=slots, **data)


@pytest.mark.parametrize("price, ok", [("27.49", True), ("27.50", True), ("27.51", False)])
def test_the_price_cap_with_its_ten_percent_float(staff, inst, price, ok):
    if ok:
        save(staff, inst, price_per_lesson=Decimal(price))
    else:
        with pytest.raises(ValidationError, match="上限为 27.50 元"):
            save(staff, inst, price_per_lesson=Decimal(price))


def test_the_cap_scales_with_the_lesson_and_the_mode(inst):
    assert price_cap(class_size=5, lesson_minutes=45, mode="offline") == Decimal("38.50")
    assert price_cap(class_size=20, lesson_minutes=60, mode="offline") == Decimal("36.67")
    assert price_cap(class_size=40, lesson_minutes=30, mode="online") == Decimal("16.50")
    assert price_cap(class_size=80, lesson_minutes=45, mode="offline") is None


def test_the_bureau_changes_the_float(staff, inst):
    policy = TrainingPolicy.current()
    policy.price_float_percent = Decimal("0")
    policy.save()
    with pytest.raises(ValidationError, match="上限为 25.00 元"):
        save(staff, inst, price_per_lesson=Decimal("25.01"))


@pytest.mark.parametrize(
    "end, ok", [(dt.time(20, 29), True), (dt.time(20, 30), True), (dt.time(20, 31), False)]
)
def test_offline_subject_training_ends_by_half_past_eight(staff, inst, end, ok):
    slots = [{"weekday": 2, "start": dt.time(19, 45), "end": end}]
    if ok:
        save(staff, inst, slots=slots)
    else:
        with pytest.raises(ValidationError, match="20:30 前结束"):
            save(staff, inst, slots=slots)


def test_online_rules_end_time_length_and_break(staff, inst):
    online = {"mode": "online", "lesson_minutes": 30, "price_per_lesson": Decimal("10")}
    save(
        staff,
        inst,
        slots=[{"weekday": 1, "start": dt.time(20, 30), "end": dt.time(21, 0)}],
        **online,
    )
    with pytest.raises(ValidationError, match="21:00 前结束"):
        save(
            staff,
            inst,
            slots=[{"weekday": 1, "start": dt.time(20, 31), "end": dt.time(21, 1)}],
            **online,
        )
    with pytest.raises(ValidationError, match="每课时不超过 30 分钟"):
        save(staff, inst, **{**online, "lesson_minutes": 31})
    two = [
        {"weekday": 1, "start": dt.time(18, 0), "end": dt.time(18, 30)},
        {"weekday": 1, "start": dt.time(18, 39), "end": dt.time(19, 9)},
    ]
    with pytest.raises(ValidationError, match="至少间隔 10 分钟"):
        save(staff, inst, slots=two, **online)
    two[1] = {"weekday": 1, "start": dt.time(18, 40), "end": dt.time(19, 10)}
    save(staff, inst, slots=two, **online)


def test_no_subject_lessons_on_rest_days_holidays_or_vacations(staff, inst):
    with pytest.raises(ValidationError, match="休息日"):
        save(staff, inst, slots=[{"weekday": 5, "start": dt.time(9), "end": dt.time(9, 45)}])
    with pytest.raises(ValidationError, match="法定节假日上课：2026-10-01（国庆节）"):
        save(
            staff,
            inst,
            term_start=dt.date(2026, 9, 28),
            term_end=dt.date(2026, 10, 9),
            slots=[{"weekday": 3, "start": dt.time(18), "end": dt.time(18, 45)}],
        )
    with pytest.raises(ValidationError, match="寒暑假"):
        save(staff, inst, term_start=dt.date(2026, 7, 6), term_end=dt.date(2026, 7, 31))
    # a non-subject course may run on a Saturday
    save(
        staff,
        inst,
        subject="体育",
        slots=[{"weekday": 5, "start": dt.time(9), "end": dt.time(9, 45)}],
    )


def test_a_make_up_saturday_follows_the_bureaus_setting(staff, inst):
    makeup = {
        "term_start": dt.date(2026, 10, 10),
        "term_end": dt.date(2026, 10, 10),
        "slots": [{"weekday": 5, "start": dt.time(9), "end": dt.time(9, 45)}],
    }
    save(staff, inst, **makeup)
    policy = TrainingPolicy.current()
    policy.makeup_saturday_is_rest_day = True
    policy.save()
    with pytest.raises(ValidationError, match="休息日"):
        save(staff, inst, **makeup)


def test_a_day_the_calendar_does_not_know_is_a_clear_error(staff, inst):
    with pytest.raises(ValidationError, match="无法核对 2027-02-03"):
        save(staff, inst, term_start=dt.date(2027, 2, 1), term_end=dt.date(2027, 2, 26))


def test_the_course_page_keeps_what_was_typed_and_names_the_rule(world, staff, inst, client_for):
    c = client_for(staff)
    url = reverse("institutions:course_new", args=[inst.pk])
    response = c.post(
        url,
        {
            "name": "周末数学",
            "subject": "数学",
            "mode": "offline",
            "lesson_minutes": 45,
            "class_size": 20,
            "price_per_lesson": "30",
            "term_start": "2026-11-02",
            "term_end": "2026-12-25",
            "slots": "周三 18:30-19:15",
        },
    )
    html = response.content.decode()
    assert "超过政府指导价" in html and "周末数学" in html and 'value="30"' in html
    assert not Course.objects.exists()
    bad = c.post(url, {"slots": "星期八 9点"}).content.decode()
    assert "第1行" in bad and "格式不对" in bad
    ok = c.post(
        url,
        {
            "name": "周三数学",
            "subject": "数学",
            "mode": "offline",
            "lesson_minutes": 45,
            "class_size": 20,
            "price_per_lesson": "27.5",
            "term_start": "2026-11-02",
            "term_end": "2026-12-25",
            "slots": "周三 18:30-19:15",
        },
    )
    assert ok.status_code == 302 and Course.objects.get().slots.count() == 1
    for user in (world.principal_a, world.parent_a, world.bureau):
        assert client_for(user).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


def test_the_nightly_checks_find_expiring_licences_and_prices_over_the_cap(world, staff, inst):
    soon = make_institution(
        staff, world.school_a.district, name="快到期培训", licence_expires=dt.date(2026, 11, 30)
    )
    course = save(staff, inst)
    Course.objects.filter(pk=course.pk).update(price_per_lesson=Decimal("40"))  # legacy data
    run_checks(
        for_date=dt.date(2026, 11, 24),
        rules=[
            "institutions.licence.expiring",
            "institutions.course.price_over_cap",
            "institutions.review.overdue",
        ],
    )
    expiring = Finding.objects.get(rule="institutions.licence.expiring")
    assert expiring.institution_id == soon.pk and expiring.severity == "serious"  # 6 days
    assert Finding.objects.get(rule="institutions.course.price_over_cap").institution_id == inst.pk
    assert not Finding.objects.filter(rule="institutions.review.overdue").exists()


def test_the_nightly_run_records_the_colour_change_of_an_expiry(world, staff, inst):
    from django.utils import timezone

    from institutions.models import ListChange

    expired = make_institution(staff, world.school_a.district, name="已过期培训")
    # registered and reviewed back in June; the licence ran out on 20 November
    ListChange.objects.filter(institution=expired).update(
        changed_at=timezone.make_aware(dt.datetime(2026, 6, 30, 12))
    )
    expired.licence_expires = dt.date(2026, 11, 20)
    expired.save(update_fields=["licence_expires"])
    run_checks(for_date=dt.date(2026, 11, 24), rules=["institutions.licence.expiring"])
    change = ListChange.objects.filter(institution=expired).latest("changed_at")
    assert change.colour == "black"
    assert timezone.localtime(change.changed_at).isoformat().startswith("2026-11-21T00:00")
    run_checks(for_date=dt.date(2026, 11, 25), rules=["institutions.licence.expiring"])
    assert ListChange.objects.filter(institution=expired, colour="black").count() == 1


def test_the_release_sweep_is_scheduled_nightly(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="institutions.escrow.release_due")
    assert (task.crontab.hour, task.crontab.minute) == ("1", "30")
    from institutions.tasks import escrow_release_due

    assert escrow_release_due("2026-11-24") == 0  # nothing due in an empty ledger
