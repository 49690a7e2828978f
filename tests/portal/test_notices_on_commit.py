"""Notices are sent once the change commits, never before (issue 12, item 9).

``portal.notices.notify`` hands its write to ``transaction.on_commit``: while the change's
transaction is open nothing is in anybody's inbox, a change that rolls back tells nobody
(nor does it reach the e-mail digest), and one that commits tells each user once. These
tests run outside the test transaction (``transaction=True``) so that the commits and
rollbacks are real ones."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.utils import timezone

from portal import findings
from portal.models import Finding, Notice
from portal.notices import digest_for, notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


@pytest.fixture
def user(db):
    return UserFactory(username="notice_reader", email="reader@example.com")


def test_nothing_is_in_the_inbox_until_the_change_commits(user):
    with transaction.atomic():
        notify([user], key="k:commit", message="已批准")
        # inside the change's transaction the notice is not written yet, not even as a row
        # this very connection could see
        assert not Notice.objects.filter(user=user).exists()
    notice = Notice.objects.get(user=user)
    assert (notice.key, notice.message) == ("k:commit", "已批准")


def test_a_rolled_back_change_notifies_nobody_and_e_mails_nothing(user):
    with pytest.raises(Boom):
        with transaction.atomic():
            notify([user], key="k:rollback", message="不该收到")
            raise Boom
    assert not Notice.objects.exists()
    assert digest_for(user.pk) == 0
    assert mail.outbox == []


def test_a_rolled_back_savepoint_drops_its_notice_and_keeps_the_others(user):
    with transaction.atomic():
        notify([user], key="k:kept", message="保留")
        with pytest.raises(Boom):
            with transaction.atomic():
                notify([user], key="k:dropped", message="撤销")
                raise Boom
        assert not Notice.objects.exists()
    assert list(Notice.objects.values_list("key", flat=True)) == ["k:kept"]


def test_a_change_committed_twice_tells_each_user_once(user):
    other = UserFactory(username="notice_other")
    for _ in range(2):
        with transaction.atomic():
            notify([user, other.pk, user], key="k:once", message="一次")
    assert Notice.objects.filter(key="k:once").count() == 2


@pytest.fixture
def assigned(world):
    staff = UserFactory(username="handler", is_staff=True)
    staff.groups.add(Group.objects.get(name="课后服务"))
    today = timezone.localdate()
    finding = Finding.objects.create(
        rule="afterschool.provider.review_overdue", severity="warning", subject_key="p:1",
        subject_repr="星火体育", message="星火体育年审逾期", first_seen=today, last_seen=today,
    )  # fmt: skip
    return staff, finding


def test_a_service_inside_a_larger_change_notifies_at_its_commit(world, assigned):
    staff, finding = assigned
    with transaction.atomic():
        findings.finding_assign(actor=staff, finding_id=finding.pk, school_id=world.school_a.pk)
        assert not Notice.objects.filter(user=world.principal_a).exists()
    assert Notice.objects.filter(user=world.principal_a).count() == 1


def test_a_service_whose_larger_change_rolls_back_notifies_nobody(world, assigned):
    staff, finding = assigned
    with pytest.raises(Boom):
        with transaction.atomic():
            findings.finding_assign(actor=staff, finding_id=finding.pk, school_id=world.school_a.pk)
            raise Boom
    finding.refresh_from_db()
    assert finding.assigned_school_id is None
    assert not Notice.objects.exists()
