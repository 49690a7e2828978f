"""A ranking and the matching at the same time, on two real connections: the matching waits
for the ranking holding the fair's lock and matches it; a ranking that comes after the
matching is refused (never accepted on a fair already matched)."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from supply import fair as fairs
from supply.fair_models import FairChoice, FairMatch
from tests.supply.fair_helpers import bureau_as, choose, fair_of, need, offer, provider_member

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(world):
    fair = fair_of(world.school_a.district)
    member = provider_member("org_race")
    n, o = need(fair, world.school_a), offer(fair, member)
    choose(FairChoice.Side.PROVIDER, o, [n])
    return fair, n, o, bureau_as("bureau_race")


def _run(target, errors):
    def body():
        try:
            target()
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=body)


def test_the_matching_waits_for_a_ranking_in_progress_and_matches_it(world):
    fair, n, o, bureau = _setup(world)
    errors: list = []
    original = fairs._after_fair_locked
    fairs._after_fair_locked = lambda: time.sleep(0.5)  # the ranking holds the lock a while
    try:
        rank = _run(
            lambda: fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o.pk]),
            errors,
        )
        rank.start()
        time.sleep(0.2)
        match = _run(lambda: fairs.fair_match(actor=bureau, fair_id=fair.pk), errors)
        match.start()
        rank.join(20)
        match.join(20)
    finally:
        fairs._after_fair_locked = original
    assert errors == []
    assert FairMatch.objects.filter(need=n, offer=o).exists()


def test_a_ranking_after_the_matching_is_refused(world):
    fair, n, o, bureau = _setup(world)
    fairs.fair_match(actor=bureau, fair_id=fair.pk)
    with pytest.raises(ValidationError) as exc:
        fairs.need_rank(actor=world.principal_a, need_id=n.pk, offer_ids=[o.pk])
    assert "已匹配" in " ".join(exc.value.messages)
    assert not FairChoice.objects.filter(side=FairChoice.Side.SCHOOL).exists()
