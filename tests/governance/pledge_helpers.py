"""Shared set-ups of the commitment letters (承诺书), exams and letters to parents tests."""

import datetime as dt

from django.contrib.auth.models import Group

from governance import pledges
from governance.pledge_models import PledgeLetter
from portal.models import SchoolPeriod
from tests.factories import UserFactory

TEXT = "一、不得有偿补课。\n二、不得布置超量作业。"
TODAY = dt.date(2026, 9, 1)


def governance_staff(username="jichu"):
    """Bureau staff of 基础教育 (the group that holds the governance permissions)."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="基础教育/作业"))
    return user


def campaign_for(w, *, schools=None, year=2026, deadline=dt.date(2026, 9, 30), text=TEXT):
    tpl = pledges.template_save(actor=w.bureau, title="教师承诺书", text=text)
    return pledges.campaign_issue(
        actor=w.bureau,
        template_id=tpl.pk,
        year=year,
        deadline=deadline,
        school_ids=[s.pk for s in (schools or [w.school_a])],
        today=TODAY,
    )


def letter_of(campaign, user) -> PledgeLetter:
    return PledgeLetter.objects.get(campaign=campaign, staff__user=user)


def term(district, start=dt.date(2026, 9, 1), end=dt.date(2027, 1, 20), name="2026秋季学期"):
    return SchoolPeriod.objects.create(
        district=district, kind=SchoolPeriod.Kind.TERM, name=name, start=start, end=end
    )
