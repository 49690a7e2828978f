"""Reads of the care ledger (关爱帮扶 一人一档): who may see which record, and the visit counts.

Who sees a record is narrower than ``portal.access.scope`` (which gives a school user the
whole school): the pupil's head teacher (SchoolClass.head_teacher), the principal and the
school's designated care staff (CareStaff). Bureau staff, parents and institutions see no
record at all, whatever scope() would give them: the bureau reads counts only
(``school_counts``), so ``visible_records`` starts from the user's kind, not from scope().

Visits (PORTAL_CARE_VISIT_FORMS, 家访 by default) are counted per term of the district's
calendar (portal SchoolPeriod, kind 学期). Each recorded pupil needs
PORTAL_CARE_VISITS_PER_TERM visits a term, a pupil in one of PORTAL_CARE_SPECIAL_CATEGORIES
PORTAL_CARE_SPECIAL_VISITS_PER_TERM. When each falls due (``due_dates``): the first within
PORTAL_CARE_FIRST_VISIT_DAYS of the term's start (or of the record's opening, if later), the
others evenly over the rest of the term, so that the last is due before the term's last
weeks and a late term is seen while it can still be put right. A visit is overdue the day
after its due date.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q

from governance.care_models import CareContact, CareRecord, CareStaff
from portal.access import SCHOOL, kind_of
from portal.models import Child, School, SchoolPeriod, SchoolStaff
from portal.permissions import is_principal  # noqa: F401  (the care pages ask sel.is_principal)

Role = SchoolStaff.Role


def _staff(user) -> SchoolStaff | None:
    return user.school_staff if kind_of(user) == SCHOOL else None


def is_care_staff(staff: SchoolStaff) -> bool:
    return CareStaff.objects.filter(staff=staff, school_id=staff.school_id).exists()


def sees_whole_school(user) -> bool:
    """The principal and the designated care staff see every record of their school."""
    staff = _staff(user)
    if staff is None:
        return False
    return staff.role == Role.PRINCIPAL or is_care_staff(staff)


def may_use_care(user) -> bool:
    """Who may open the ledger's pages: the principal, the care staff, a head teacher."""
    staff = _staff(user)
    if staff is None:
        return False
    return sees_whole_school(user) or staff.head_of.exists()


def visible_records(user):
    """The records ``user`` may read (none for anyone but the three roles of the school)."""
    staff = _staff(user)
    if staff is None:
        return CareRecord.objects.none()
    rows = CareRecord.objects.filter(school_id=staff.school_id)
    if sees_whole_school(user):
        return rows
    return rows.filter(child__school_class__head_teacher=staff)


def visible_children(user):
    """The pupils ``user`` may open a record for (their class, or the whole school)."""
    staff = _staff(user)
    if staff is None:
        return Child.objects.none()
    rows = Child.objects.filter(school_id=staff.school_id)
    if not sees_whole_school(user):
        rows = rows.filter(school_class__head_teacher=staff)
    return rows.select_related("school_class").order_by("school_class", "name")


def school_staff_of(user):
    """The school's staff (for 联系教师 / 走访教师 and the care staff designation)."""
    staff = _staff(user)
    if staff is None:
        return SchoolStaff.objects.none()
    return SchoolStaff.objects.filter(school_id=staff.school_id).order_by("role", "name")


def care_staff_of(user):
    staff = _staff(user)
    if staff is None:
        return CareStaff.objects.none()
    return CareStaff.objects.filter(school_id=staff.school_id).select_related("staff")


# --- terms and visits ------------------------------------------------------------------------


def term_on(district_id, day: dt.date) -> SchoolPeriod | None:
    """The district's term (学期) covering ``day``; None in a vacation or outside any term."""
    return (
        SchoolPeriod.objects.filter(
            district_id=district_id, kind=SchoolPeriod.Kind.TERM, start__lte=day, end__gte=day
        )
        .order_by("start")
        .first()
    )


def is_special(categories) -> bool:
    return bool(set(categories) & set(settings.PORTAL_CARE_SPECIAL_CATEGORIES))


def required_visits(categories) -> int:
    if is_special(categories):
        return settings.PORTAL_CARE_SPECIAL_VISITS_PER_TERM
    return settings.PORTAL_CARE_VISITS_PER_TERM


def due_dates(term: SchoolPeriod, opened_on: dt.date, n: int) -> list[dt.date]:
    """When each of the ``n`` visits of the term falls due (see the module's docstring)."""
    if n <= 0:
        return []
    anchor = max(term.start, opened_on)
    first = min(anchor + dt.timedelta(days=settings.PORTAL_CARE_FIRST_VISIT_DAYS), term.end)
    rest = (term.end - first).days
    return [first + dt.timedelta(days=math.floor(k * rest / n)) for k in range(n)]


@dataclass
class Standing:
    """A record's visits in the term: how many done, needed, due by now (overdue if short)."""

    done: int
    needed: int
    due_by_now: int
    next_due: dt.date | None

    @property
    def overdue(self) -> bool:
        return self.done < self.due_by_now

    @property
    def owed(self) -> bool:
        return self.done < self.needed


def standing(term, record, done: int, day: dt.date) -> Standing | None:
    if term is None or record.opened_on > day:
        return None
    needed = required_visits(record.categories)
    dates = due_dates(term, record.opened_on, needed)
    due_by_now = sum(1 for d in dates if d < day)
    later = [d for d in dates[done:]]
    return Standing(done, needed, due_by_now, later[0] if later else None)


def visits_in(term):
    """Count of the visits of each record within ``term`` (as an annotation)."""
    return Count(
        "contacts",
        filter=Q(
            contacts__form__in=settings.PORTAL_CARE_VISIT_FORMS,
            contacts__date__range=(term.start, term.end),
        ),
    )


def records_with_standing(user, day: dt.date):
    """The records ``user`` may read, each with ``.term_standing`` (None outside a term).
    Three queries whatever the number of records."""
    staff = _staff(user)
    if staff is None:
        return [], None
    term = term_on(staff.school.district_id, day)
    rows = visible_records(user).select_related("child", "child__school_class", "contact")
    rows = rows.filter(closed_on__isnull=True).order_by("child__school_class", "child__name")
    if term is not None:
        rows = rows.annotate(visits=visits_in(term))
    out = list(rows)
    for r in out:
        r.term_standing = standing(term, r, getattr(r, "visits", 0), day)
    return out, term


# --- counts for the bureau (never a record) ------------------------------------------------


@dataclass
class SchoolCounts:
    school: School
    records: int = 0
    special: int = 0
    by_category: dict = field(default_factory=dict)
    owed: int = 0  # pupils whose visits of the term are not all done yet (应访)
    overdue: int = 0  # pupils with a visit past its due date (逾期)
    overdue_special: int = 0


def school_counts(
    district_id, day: dt.date, *, term=None, all_schools: bool = True
) -> tuple[list[SchoolCounts], object]:
    """Per school of the district: records by category, pupils owed and overdue visits on
    ``day``. Three queries (the term, the schools, the records with their visit counts);
    two with ``all_schools=False`` (only the schools that have records, read with them)."""
    if term is None:
        term = term_on(district_id, day)
    schools = {}
    if all_schools:
        schools = {s.pk: SchoolCounts(s) for s in School.objects.filter(district_id=district_id)}
    rows = CareRecord.objects.filter(
        school__district_id=district_id, closed_on__isnull=True, opened_on__lte=day
    ).only("pk", "school_id", "categories", "opened_on")
    if not all_schools:
        rows = rows.select_related("school").only(
            "pk", "school_id", "categories", "opened_on", "school__name", "school__code"
        )
    if term is not None:
        rows = rows.annotate(visits=visits_in(term))
    for r in rows:
        c = schools.get(r.school_id)
        if c is None and not all_schools:
            c = schools[r.school_id] = SchoolCounts(r.school)
        if c is None:
            continue
        c.records += 1
        for cat in r.categories:
            c.by_category[cat] = c.by_category.get(cat, 0) + 1
        special = is_special(r.categories)
        c.special += special
        s = standing(term, r, getattr(r, "visits", 0), day)
        if s is not None:
            c.owed += s.owed
            c.overdue += s.overdue
            c.overdue_special += s.overdue and special
    return sorted(schools.values(), key=lambda c: c.school.code), term


def category_counts(district_id, day: dt.date) -> dict:
    """Open records of the district by category (a pupil counts in each of theirs): one
    query."""
    totals = {c: 0 for c in settings.PORTAL_CARE_CATEGORIES}
    rows = CareRecord.objects.filter(
        school__district_id=district_id, closed_on__isnull=True, opened_on__lte=day
    ).values_list("categories", flat=True)
    for categories in rows:
        for cat in categories:
            totals[cat] = totals.get(cat, 0) + 1
    totals["__records__"] = len(rows)
    return totals


def contacts_of(record):
    return CareContact.objects.filter(record=record).select_related("by").order_by("-date", "-pk")
