"""Reads of 阳光分班, already scoped and joined, shared by the pages, the checks and the
dashboard. Who may see the unmasked list: the school's principal and 教导处 (their school's
draws, another school's a 404) and the bureau's 基础教育 staff; everyone sees the public page
(masked names) of a draw whose commitment is published."""

import json
from dataclasses import dataclass

from django.http import Http404

from governance import draw as draws
from governance.draw_models import Draw, DrawPupil
from portal.access import get_scoped_or_404, scope
from portal.permissions import is_bureau, is_school_manager

S = Draw.Status


def may_see_list(user) -> bool:
    """The users of the staff pages (the unmasked list): school managers, 基础教育 staff."""
    return is_school_manager(user) or is_bureau(user, draws.LINE)


def staff_draws(user, *, status=None):
    rows = scope(Draw.objects, user).select_related("school", "school__district")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-id")


def staff_draw(user, pk: int) -> Draw:
    return get_scoped_or_404(
        Draw.objects.select_related("school", "supersedes", "superseded_by"), user, pk=pk
    )


def public_draws():
    return (
        Draw.objects.exclude(status=S.DRAFT)
        .select_related("school", "school__district")
        .order_by("-published_at", "-id")
    )


def public_draw(pk: int) -> Draw:
    draw = (
        Draw.objects.exclude(status=S.DRAFT)
        .select_related("school", "supersedes", "superseded_by")
        .filter(pk=pk)
        .first()
    )
    if draw is None:
        raise Http404
    return draw


@dataclass
class PupilLine:
    number: int | None
    name: str
    gender: str
    band: str
    row: int | None = None


@dataclass
class ClassLine:
    number: int
    teacher: str
    pupils: list[PupilLine]

    @property
    def girls(self) -> int:
        return sum(1 for p in self.pupils if p.gender == "女")

    @property
    def boys(self) -> int:
        return len(self.pupils) - self.girls


def _gender(code: str) -> str:
    return str(DrawPupil.Gender(code).label)


def public_pupils(draw: Draw) -> list[PupilLine]:
    """The published list (masked names, numbers), from the committed document."""
    if not draw.document:
        return []
    doc = json.loads(draw.document)
    return [PupilLine(p["no"], p["name"], _gender(p["gender"]), p["band"]) for p in doc["pupils"]]


def public_classes(draw: Draw) -> list[ClassLine]:
    """The classes as the public sees them: masked names, only once the seed is revealed."""
    if not (draw.seed_revealed and draw.result):
        return []
    by_number = {p.number: p for p in public_pupils(draw)}
    return [
        ClassLine(c["class"], c["teacher"], [by_number[no] for no in c["pupils"]])
        for c in draw.result["classes"]
    ]


def staff_pupils(draw: Draw) -> list[PupilLine]:
    """The unmasked list as entered (before publishing) or numbered (after)."""
    return [
        PupilLine(p.number, p.name, p.get_gender_display(), p.band, p.row)
        for p in draw.pupils.order_by("number", "row")
    ]


def staff_classes(draw: Draw) -> list[ClassLine]:
    """The classes with full names: school managers and bureau staff only."""
    if not (draw.seed_revealed and draw.result):
        return []
    by_number = {p.number: p for p in staff_pupils(draw)}
    return [
        ClassLine(c["class"], c["teacher"], [by_number[no] for no in c["pupils"]])
        for c in draw.result["classes"]
    ]
