"""The dashboard's whitelist panel counts the public list's verdict: the stored colour while
it holds, else computed (institutions.colour), in one statement of two parts (issue 20)."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from institutions import colour
from institutions.dashboard import by_colour
from institutions.models import Institution
from portal.dashboard import Filters
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db


def counted(district):
    p = by_colour(Filters(district=district, month=f"{timezone.localdate():%Y-%m}"))
    return {b.label: b.value for b in p.series[0].bars}


def verdicts(district):
    out = {label: 0 for label in colour.LABELS.values()}
    for i in Institution.objects.filter(district=district):
        out[str(colour.LABELS[colour.verdict(i).colour])] += 1
    return out


def test_stored_and_stale_rows_are_each_counted_once(world, django_assert_num_queries):
    district = world.school_a.district
    colour.TrainingPolicy.current()  # the policy row exists, as in a running portal
    actor = training_staff()
    make_institution(actor, district, name="白名单机构")
    make_institution(actor, district, name="黑名单机构", licence_expires=dt.date(2020, 1, 1))
    make_institution(actor, district, name="将过期机构")
    assert not Institution.objects.filter(colour_until__isnull=True).exists()  # all stored
    assert counted(district) == verdicts(district)
    # an input changed behind the services' back: its stored colour no longer holds
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE institutions_institution SET licence_expires = %s WHERE name = %s",
            [timezone.localdate() - dt.timedelta(days=1), "将过期机构"],
        )
    stale = Institution.objects.filter(colour_until__isnull=True)
    assert list(stale.values_list("name", flat=True)) == ["将过期机构"]  # both parts in play
    got = counted(district)
    assert got == verdicts(district) and got["黑名单"] == 2
    assert sum(got.values()) == Institution.objects.filter(district=district).count()
    with django_assert_num_queries(2):  # the policy, then one statement
        counted(district)


def test_a_stored_colour_past_its_last_day_is_computed_again(world, monkeypatch):
    district = world.school_a.district
    colour.TrainingPolicy.current()
    actor = training_staff()
    expires = timezone.localdate() + dt.timedelta(days=3)
    make_institution(actor, district, name="三天后过期", licence_expires=expires)
    assert counted(district)["白名单"] == 1
    assert Institution.objects.get(name="三天后过期").colour_until == expires
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: expires)  # its last white day
    assert counted(district)["白名单"] == 1
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: expires + dt.timedelta(days=1))
    got = counted(district)  # nothing refreshed it: computed, black from the midnight after
    assert got["白名单"] == 0 and got["黑名单"] == 1
