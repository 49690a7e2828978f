"""Volunteers and resource people (志愿者与社会资源人员): the register, vetting, hours.

Who keeps the register: a school's principal or 教导处 its school's people, a community
site's operator its site's, the bureau's after-school staff everyone (and the district's
pool: people of a provider or a venue who teach in several schools, registered to neither).

Vetting: 无犯罪记录证明, 健康证明 and 安全培训, each valid for PEOPLE_NO_CRIMINAL_RECORD_MONTHS,
PEOPLE_HEALTH_CERT_MONTHS and PEOPLE_TRAINING_MONTHS months from its date (portal/settings.py
says where the defaults come from). A person with one missing or past its term is *lapsed*:
they cannot be named on a course or a lesson (the refusal names the record and its date), a
course naming them cannot be published (``publish_problems``), and a scheduled lesson they
teach is flagged on the course page and by the nightly check (afterschool/people_checks.py).

Hours: a lesson held (its roll taken) counts its length for the people who taught it: the
lesson's own people (``LessonPerson``, a substitute) when it names any, else its course's
(``OfferingPerson``). Lock order: Offering, then Lesson, then Person rows.
"""

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from afterschool.models import (
    Lesson,
    LessonPerson,
    Offering,
    OfferingPerson,
    Person,
    Provider,
)
from portal.access import SCHOOL, SITE, kind_of
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.models import District, School
from portal.permissions import is_bureau, is_school_manager, is_site_operator, require

# (field, the record's name, the setting of its months)
VETTING = (
    ("no_criminal_record_on", "无犯罪记录证明", "PEOPLE_NO_CRIMINAL_RECORD_MONTHS"),
    ("health_cert_on", "健康证明", "PEOPLE_HEALTH_CERT_MONTHS"),
    ("trained_on", "安全培训", "PEOPLE_TRAINING_MONTHS"),
)
PERSON_FIELDS = ("name", "kind", "phone", "provider", "venue", "no_criminal_record_on",
                 "health_cert_on", "trained_on", "active")  # fmt: skip


def valid_until(field: str, on: dt.date | None) -> dt.date | None:
    """The last day a vetting record dated ``on`` is valid (None: no record)."""
    if on is None:
        return None
    months = next(getattr(settings, s) for f, _n, s in VETTING if f == field)
    return on + relativedelta(months=months) - dt.timedelta(days=1)


def lapses(person: Person, day: dt.date) -> list[str]:
    """Why ``person`` may not teach on ``day``, one line per vetting record, in Chinese."""
    out = []
    for field, label, setting in VETTING:
        on = getattr(person, field)
        if on is None:
            out.append(f"{person.name}的{label}未登记")
        elif on > day:
            out.append(f"{person.name}的{label}日期 {on} 晚于 {day}")
        else:
            until = valid_until(field, on)
            if until < day:
                months = getattr(settings, setting)
                out.append(
                    f"{person.name}的{label}（{on}）已于 {until} 过期（有效期 {months} 个月）"
                )
    return out


def vetting_state(person: Person, today: dt.date) -> str:
    """ "lapsed", "expiring" (within PEOPLE_VETTING_WARN_DAYS) or "valid"."""
    if lapses(person, today):
        return "lapsed"
    warn = today + dt.timedelta(days=settings.PEOPLE_VETTING_WARN_DAYS)
    if any(valid_until(f, getattr(person, f)) < warn for f, _l, _s in VETTING):
        return "expiring"
    return "valid"


STATE_LABELS = {"valid": "审查有效", "expiring": "即将到期", "lapsed": "审查失效"}


def next_expiry(person: Person) -> dt.date | None:
    dates = [valid_until(f, getattr(person, f)) for f, _l, _s in VETTING]
    dates = [d for d in dates if d is not None]
    return min(dates) if dates else None


# --- who may register whom -------------------------------------------------------------------


def may_register(user) -> bool:
    return is_bureau(user, "afterschool") or is_school_manager(user) or is_site_operator(user)


def _owner(user) -> dict:
    """The register a new person of ``user``'s goes to: their school or site; the bureau's
    own entries choose (a school, a site, or the district pool)."""
    kind = kind_of(user)
    if kind == SCHOOL:
        return {"school": user.school_staff.school, "site": None}
    if kind == SITE:
        return {"school": None, "site": user.site_operator.site}
    return {}


def _may_edit(user, person: Person) -> bool:
    if is_bureau(user, "afterschool"):
        return True
    if is_school_manager(user):
        return person.school_id == user.school_staff.school_id
    if is_site_operator(user):
        return person.site_id == user.site_operator.site_id
    return False


def _validate(data: dict, today: dt.date, given=None) -> dict:
    """``data`` cleaned; ``given``: the fields the caller sets (the others are kept as they
    are, e.g. a provider that has since left the whitelist)."""
    given = set(data) if given is None else set(given)
    errors = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写姓名。"
    elif len(name) > 50:
        errors["name"] = "姓名最多 50 个字。"
    data["name"] = name
    if data.get("kind") not in Person.Kind.values:
        errors["kind"] = "请选择人员类别。"
    phone = (data.get("phone") or "").strip().replace(" ", "").replace("-", "")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 20):
        errors["phone"] = "联系电话应为 7 至 20 位数字。"
    data["phone"] = phone
    data["venue"] = (data.get("venue") or "").strip()[:100]
    provider = data.get("provider")
    if "provider" in given and provider is not None and provider.status != Provider.Status.ADMITTED:
        errors["provider"] = f"{provider.name}不在课后服务第三方机构准入名单内。"
    for field, label, _s in VETTING:
        on = data.get(field)
        if field in given and on is not None and on > today:
            errors[field] = f"{label}日期不能晚于今天（{today}）。"
    if errors:
        raise ValidationError(errors)
    return data


def person_create(*, user, school=None, site=None, district=None, today=None, **fields):
    """Register a person: a school manager to their school, a site operator to their site,
    the bureau to a school, a site or (neither) the district's pool."""
    require(may_register(user))
    if set(fields) - set(PERSON_FIELDS):
        raise ValueError(f"cannot set {set(fields) - set(PERSON_FIELDS)}")
    today = today or timezone.localdate()
    owner = _owner(user)
    if owner:
        school, site = owner["school"], owner["site"]
    elif school is not None and site is not None:
        raise ValidationError({"school": "登记到学校或托管点，二者选一。"})
    data = _validate({"active": True, **fields}, today)
    if school is not None:
        district = school.district
    elif site is not None:
        district = site.district
    elif district is None:
        district = District.objects.order_by("pk").first()
    with transaction.atomic():
        person = Person.objects.create(school=school, site=site, district=district, by=user, **data)
        audit_record(actor=user, action="afterschool.person.registered", obj=person,
                     new=snapshot(person, [*PERSON_FIELDS, "school", "site"]))  # fmt: skip
    return person


def person_update(*, user, person_id: int, today=None, **fields) -> Person:
    """Change a person's record (their vetting dates included); another register's person
    is not found."""
    require(may_register(user))
    if set(fields) - set(PERSON_FIELDS):
        raise ValueError(f"cannot set {set(fields) - set(PERSON_FIELDS)}")
    today = today or timezone.localdate()
    with transaction.atomic():
        person = locked(Person.objects.all()).filter(pk=person_id).first()
        if person is None or not _may_edit(user, person):
            raise Person.DoesNotExist
        data = _validate({**snapshot_fields(person), **fields}, today, given=fields)
        old = snapshot(person, list(fields))
        changed = [f for f in fields if getattr(person, f) != data[f]]
        if not changed:
            return person
        for f in changed:
            setattr(person, f, data[f])
        person.save(update_fields=changed)
        _after_vetting_write()
        audit_record(actor=user, action="afterschool.person.updated", obj=person, old=old,
                     new=snapshot(person, changed))  # fmt: skip
    return person


def _no_pause():
    pass


# Tests widen the window between a person's change and its commit here
# (tests/afterschool/test_people_concurrency.py).
_after_vetting_write = _no_pause


def snapshot_fields(person: Person) -> dict:
    return {f: getattr(person, f) for f in PERSON_FIELDS}


# --- the full phone number -------------------------------------------------------------------

# The portal's one permission for full phone numbers (portal/privacy.py): no staff group holds
# it by default; the superuser gives it to the few who phone people. (A permission of the
# afterschool app would be given to the 课后服务 group with all the app's permissions.)
PHONE_PERM = "portal.view_parent_phone"


def may_see_phone(user) -> bool:
    """Staff holding ``portal.view_parent_phone`` (or the superuser)."""
    return bool(user.is_active and user.is_staff and user.has_perm(PHONE_PERM))


def person_phone_show(*, actor, person_id: int) -> str:
    """The person's full number, after its audit row is written (the caller shows it only
    after this returns)."""
    require(may_see_phone(actor))
    with transaction.atomic():
        person = Person.objects.get(pk=person_id)
        audit_record(actor=actor, action="afterschool.person.phone_shown", obj=person,
                     new={"phone": person.masked_phone})  # fmt: skip
    return person.phone


# --- naming people on courses and lessons --------------------------------------------------


def assignable(offering: Offering):
    """The register a course may choose from: its school's people, its site's, and the
    district's pool; the lapsed are listed (and refused with their reason when chosen)."""
    from django.db.models import Q

    reach = Q(school_id=offering.school_id) | Q(
        school__isnull=True, site__isnull=True, district_id=offering.school.district_id
    )
    if offering.site_id:
        reach |= Q(site_id=offering.site_id)
    return Person.objects.filter(reach, active=True)


def assignable_for_school(school: School):
    from django.db.models import Q

    return Person.objects.filter(
        Q(school=school)
        | Q(school__isnull=True, site__isnull=True, district_id=school.district_id),
        active=True,
    )


def _may_staff(user, offering: Offering) -> bool:
    """Who names a course's people: its school's managers, its site's operator."""
    if is_school_manager(user, offering.school_id):
        return True
    return offering.site_id is not None and is_site_operator(user, offering.site_id)


def _check_person(person: Person, offering: Offering, day: dt.date, field="person"):
    if not assignable(offering).filter(pk=person.pk).exists():
        raise ValidationError({field: f"{person.name}不在本校（托管点）可选的人员名册中。"})
    problems = lapses(person, day)
    if problems:
        raise ValidationError({field: "不能安排：" + "；".join(problems) + "。"})


def people_attach(offering: Offering, people, *, user, today=None):
    """Name ``people`` on a new course (inside offering_create's transaction): each from the
    register the course may use and vetted today."""
    today = today or timezone.localdate()
    for person in people:
        _check_person(person, offering, today, field="people")
    for person in people:
        OfferingPerson.objects.create(offering=offering, person=person)
    if people:
        audit_record(actor=user, action="afterschool.offering.people_named", obj=offering,
                     new={"people": [p.pk for p in people]})  # fmt: skip


def offering_person_add(*, user, offering_id: int, person_id: int, role: str = "lead",
                        today=None, lock: bool = True) -> OfferingPerson:  # fmt: skip
    """Name a person on a course; refused for a lapsed vetting (which record, which date).
    The person's row is locked: a vetting date being changed at the same moment (a lapse
    recorded) is waited for and judged, never the value from before it."""
    today = today or timezone.localdate()
    if role not in OfferingPerson.Role.values:
        raise ValidationError({"role": "请选择角色（主讲或助教）。"})
    with transaction.atomic():
        offering = locked(Offering.objects.select_related("school"), of=("self",)).filter(
            pk=offering_id).first()  # fmt: skip
        if offering is None:
            raise Offering.DoesNotExist
        require(_may_staff(user, offering))
        if offering.status in (Offering.Status.CANCELLED, Offering.Status.FINISHED):
            raise ValidationError("课程已取消或已结课，不能再安排人员。")
        rows = locked(Person.objects.all()) if lock else Person.objects.all()
        person = rows.filter(pk=person_id).first()
        if person is None:
            raise ValidationError({"person": "请选择名册中的人员。"})
        _check_person(person, offering, today)
        existing = OfferingPerson.objects.filter(offering=offering, person=person).first()
        if existing is not None:
            return existing
        row = OfferingPerson.objects.create(offering=offering, person=person, role=role)
        audit_record(actor=user, action="afterschool.offering.person_added", obj=offering,
                     new={"person": person.pk, "name": person.name, "role": role})  # fmt: skip
    return row


def offering_person_remove(*, user, offering_id: int, person_id: int) -> None:
    with transaction.atomic():
        offering = locked(Offering.objects.all(), of=("self",)).filter(pk=offering_id).first()
        if offering is None:
            raise Offering.DoesNotExist
        require(_may_staff(user, offering))
        row = locked(OfferingPerson.objects.filter(offering=offering, person_id=person_id)).first()
        if row is None:
            return
        row.delete()
        audit_record(actor=user, action="afterschool.offering.person_removed", obj=offering,
                     old={"person": person_id})  # fmt: skip


def lesson_person_add(*, user, lesson_id: int, person_id: int, today=None) -> LessonPerson:
    """Name a person on one lesson (a substitute): the lesson not held yet, the person
    vetted on the lesson's day and today."""
    today = today or timezone.localdate()
    with transaction.atomic():
        lesson = locked(Lesson.objects.select_related("offering__school"), of=("self",)).filter(
            pk=lesson_id).first()  # fmt: skip
        if lesson is None:
            raise Lesson.DoesNotExist
        require(_may_staff(user, lesson.offering))
        if lesson.status != Lesson.Status.SCHEDULED or lesson.date < today:
            raise ValidationError({"lesson": "只能为尚未上课的课次安排人员。"})
        person = locked(Person.objects.all()).filter(pk=person_id).first()
        if person is None:
            raise ValidationError({"person": "请选择名册中的人员。"})
        _check_person(person, lesson.offering, max(today, lesson.date))
        _check_person(person, lesson.offering, today)
        existing = LessonPerson.objects.filter(lesson=lesson, person=person).first()
        if existing is not None:
            return existing
        row = LessonPerson.objects.create(lesson=lesson, person=person)
        audit_record(actor=user, action="afterschool.lesson.person_added", obj=lesson,
                     new={"person": person.pk, "name": person.name})  # fmt: skip
    return row


def lesson_person_remove(*, user, lesson_id: int, person_id: int) -> None:
    with transaction.atomic():
        lesson = locked(Lesson.objects.select_related("offering"), of=("self",)).filter(
            pk=lesson_id).first()  # fmt: skip
        if lesson is None:
            raise Lesson.DoesNotExist
        require(_may_staff(user, lesson.offering))
        row = locked(LessonPerson.objects.filter(lesson=lesson, person_id=person_id)).first()
        if row is None:
            return
        row.delete()
        audit_record(actor=user, action="afterschool.lesson.person_removed", obj=lesson,
                     old={"person": person_id})  # fmt: skip


# --- gates and flags -------------------------------------------------------------------------


def publish_problems(offering: Offering) -> list[str]:
    """Why the course's people keep it from opening (a lapsed vetting), in Chinese."""
    today = timezone.localdate()
    problems = []
    for row in offering.people.select_related("person").order_by("pk"):
        found = lapses(row.person, today)
        if found:
            problems.append("授课人员审查不合格：" + "；".join(found) + "。")
    return problems


def flagged_lessons(offerings, today=None) -> list[tuple[Lesson, Person, list[str]]]:
    """Scheduled lessons from today on whose teachers (the lesson's own people, else its
    course's) are lapsed on the lesson's day: (lesson, person, reasons). Three queries."""
    today = today or timezone.localdate()
    lessons = list(
        Lesson.objects.filter(offering__in=offerings, status=Lesson.Status.SCHEDULED,
                              date__gte=today)
        .select_related("offering").order_by("date", "start", "pk")
    )  # fmt: skip
    if not lessons:
        return []
    own: dict[int, list[Person]] = {}
    for row in LessonPerson.objects.filter(lesson__in=lessons).select_related("person"):
        own.setdefault(row.lesson_id, []).append(row.person)
    course: dict[int, list[Person]] = {}
    for row in OfferingPerson.objects.filter(
        offering_id__in={x.offering_id for x in lessons}
    ).select_related("person"):
        course.setdefault(row.offering_id, []).append(row.person)
    return lesson_flags(lessons, course, own, today)


def lesson_flags(lessons, course: dict, own: dict, today) -> list[tuple[Lesson, Person, list]]:
    """The flags of ``lessons`` from their people already read: ``course`` {offering_id:
    [Person]}, ``own`` {lesson_id: [Person]} (no query)."""
    out = []
    for lesson in lessons:
        if lesson.status != Lesson.Status.SCHEDULED or lesson.date < today:
            continue
        for person in own.get(lesson.pk) or course.get(lesson.offering_id, []):
            reasons = lapses(person, lesson.date)
            if reasons:
                out.append((lesson, person, reasons))
    return out


# --- hours served ----------------------------------------------------------------------------


def _held():
    from django.db.models import Q

    return Q(status=Lesson.Status.HELD) | Q(roll_submitted_at__isnull=False)


def hour_rows(lessons):
    """(person_id, lesson_id, term_id, start, end) of held lessons in ``lessons`` for each of
    their teachers, in one query (the lesson's own people, union the course's people of the
    lessons without any)."""
    from django.db.models import Exists, OuterRef

    # plain id subqueries, unordered: a UNION takes no ORDER BY or DISTINCT columns
    held = lessons.filter(_held()).order_by().values("pk")
    own = (
        LessonPerson.objects.filter(lesson_id__in=held)
        .order_by()
        .values_list("person_id", "lesson_id", "lesson__offering__plan__term_id",
                     "lesson__start", "lesson__end")
    )  # fmt: skip
    inherited = (
        Lesson.objects.filter(pk__in=held)
        .exclude(Exists(LessonPerson.objects.filter(lesson=OuterRef("pk"))))
        .filter(offering__people__isnull=False)
        .order_by()
        .values_list("offering__people__person_id", "pk", "offering__plan__term_id", "start",
                     "end")
    )  # fmt: skip
    return own.union(inherited, all=True)


def minutes(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def hours_by_person(lessons) -> dict[int, dict[int, int]]:
    """{person_id: {term_id: minutes}} over the held lessons of ``lessons``."""
    out: dict[int, dict[int, int]] = {}
    for person_id, _lesson, term_id, start, end in hour_rows(lessons):
        terms = out.setdefault(person_id, {})
        terms[term_id] = terms.get(term_id, 0) + minutes(start, end)
    return out


def person_hours(person: Person) -> list[dict]:
    """The person's held lessons per term: [{"term", "lessons", "minutes"}], latest first."""
    from django.db.models import Q

    from portal.models import SchoolPeriod

    lessons = Lesson.objects.filter(
        Q(people__person=person) | Q(offering__people__person=person)
    ).distinct()
    per: dict[int, list[int]] = {}
    seen = set()
    for person_id, lesson_id, term_id, start, end in hour_rows(lessons):
        if person_id != person.pk or lesson_id in seen:
            continue
        seen.add(lesson_id)
        row = per.setdefault(term_id, [0, 0])
        row[0] += 1
        row[1] += minutes(start, end)
    terms = SchoolPeriod.objects.in_bulk(list(per))
    rows = [{"term": terms[t], "lessons": n, "minutes": m} for t, (n, m) in per.items()]
    return sorted(rows, key=lambda r: r["term"].start, reverse=True)


__all__ = [
    "STATE_LABELS",
    "VETTING",
    "flagged_lessons",
    "hours_by_person",
    "lapses",
    "lesson_person_add",
    "lesson_person_remove",
    "offering_person_add",
    "offering_person_remove",
    "person_create",
    "person_hours",
    "person_update",
    "publish_problems",
    "valid_until",
    "vetting_state",
]
