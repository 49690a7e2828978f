"""Reads of letters to parents (致家长的一封信), already scoped (portal.access.scope)."""

from collections import defaultdict

from governance.letter_models import ParentLetter, ParentLetterDelivery
from portal.access import get_scoped_or_404, scope
from portal.models import District, Notice, School, SchoolClass


def sent(user):
    """The letters the user's side sent (a school: its own; the bureau: all)."""
    return scope(ParentLetter.objects.select_related("sender_school", "district"), user)


def sent_letter(user, pk) -> ParentLetter:
    return get_scoped_or_404(ParentLetter.objects.select_related("district"), user, pk=pk)


def inbox(user):
    """The parent's letters, with whether each is read."""
    rows = list(scope(ParentLetter.objects.all(), user).order_by("-sent_at", "-id"))
    read = set(
        Notice.objects.filter(
            user=user, key__in=[r.notice_key for r in rows], read_at__isnull=False
        ).values_list("key", flat=True)
    )
    for r in rows:
        r.is_read = r.notice_key in read
    return rows


def inbox_letter(user, pk) -> ParentLetter:
    """A letter addressed to the parent; any other is a 404."""
    return get_scoped_or_404(ParentLetter.objects.all(), user, pk=pk)


def read_rates(letter: ParentLetter) -> dict:
    """Recipients and reads per school and per class (three queries whatever the size)."""
    deliveries = list(
        ParentLetterDelivery.objects.filter(letter=letter).values_list(
            "user_id", "school_id", "school_class_id"
        )
    )
    read = set(
        Notice.objects.filter(key=letter.notice_key, read_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    schools, classes = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for user_id, school_id, class_id in deliveries:
        for bucket, key in ((schools, school_id), (classes, class_id)):
            bucket[key][0] += 1
            bucket[key][1] += user_id in read
    names = SchoolClass.objects.select_related("school").in_bulk(list(classes))
    school_names = {c.school_id: c.school.name for c in names.values()}

    def rate(total, n):
        return f"{n * 100 / total:.0f}%" if total else "—"

    return {
        "total": len(deliveries),
        "read": sum(1 for u, _s, _c in deliveries if u in read),
        "schools": [
            {"name": school_names.get(pk, ""), "total": t, "read": n, "rate": rate(t, n)}
            for pk, (t, n) in sorted(schools.items(), key=lambda kv: school_names.get(kv[0], ""))
        ],
        "classes": [
            {
                "name": f"{names[pk].school.name} {names[pk]}",
                "total": t,
                "read": n,
                "rate": rate(t, n),
            }
            for pk, (t, n) in sorted(
                classes.items(),
                key=lambda kv: (
                    str(names[kv[0]].school.name)
                    + f"{names[kv[0]].grade:02d}{names[kv[0]].number:03d}"
                ),
            )
        ],
    }


def district_options():
    return District.objects.order_by("code")


def school_options(user):
    return scope(School.objects.select_related("district"), user).order_by("district__code", "code")


def class_options(user):
    return scope(SchoolClass.objects.select_related("school"), user).order_by(
        "school__code", "grade", "number"
    )
