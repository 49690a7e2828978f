"""Serious findings reach the bureau staff of their line (issue 13, item 4, generalised).

A run's new serious findings are told, once the run's finish commits, to the members of the
staff group of the rule's line (portal.setup.STAFF_GROUPS: an after-school finding to 课后服务)
in their in-site inbox, and the daily digest e-mails them. Only new serious findings, once
per finding: a re-run tells nobody again; a warning tells the bureau nothing; the other lines'
staff hear nothing of it.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from afterschool.models import Enrolment
from portal import compliance
from portal.compliance import Found, register, run_checks
from portal.models import Finding, Notice
from portal.notices import digest_for, line_staff
from tests.afterschool.helpers import offering
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

OVER_CAPACITY = "afterschool.offering.over_capacity"  # serious
DAY = dt.date(2026, 10, 12)


def _staff(username, group):
    user = UserFactory(username=username, is_staff=True, email=f"{username}@example.com")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def afterschool_staff(db):
    return _staff("kehou", "课后服务")


@pytest.fixture
def full_course(world):
    """A published course with one place and two children enrolled."""
    course = offering(world.school_a, capacity=1)
    for child in (world.child_a, world.child_b):
        Enrolment.objects.create(
            offering=course, child=child, status=Enrolment.Status.ENROLLED, by=world.parent_a
        )
    return course


def test_a_serious_after_school_finding_reaches_the_after_school_staff_once(
    world, full_course, afterschool_staff
):
    homework_staff = world.bureau  # 基础教育/作业
    homework_staff.email = "zuoye@example.com"
    homework_staff.save()

    run_checks(for_date=DAY, rules=[OVER_CAPACITY])

    finding = Finding.objects.get(rule=OVER_CAPACITY, resolved_at=None)
    assert finding.severity == Finding.Severity.SERIOUS
    notice = Notice.objects.get(user=afterschool_staff)
    assert notice.key == f"finding:{finding.pk}:serious"
    assert notice.url == f"/dashboard/findings/{finding.pk}/"
    assert notice.message.startswith("严重检查发现：") and "超过名额" in notice.message
    assert not Notice.objects.filter(user=homework_staff).exists()

    # the same finding seen again, that night and the next: nobody is told twice
    assert run_checks(for_date=DAY, rules=[OVER_CAPACITY]).findings_new == 0
    assert run_checks(for_date=DAY + dt.timedelta(days=1), rules=[OVER_CAPACITY]).findings_new == 0
    assert Notice.objects.filter(user=afterschool_staff).count() == 1

    # ... and the daily digest e-mails it, once
    assert digest_for(afterschool_staff.pk) == 1
    assert [m.to for m in mail.outbox] == [[afterschool_staff.email]]
    assert "超过名额" in mail.outbox[0].body
    assert digest_for(afterschool_staff.pk) == 0
    assert digest_for(homework_staff.pk) == 0


def test_no_finding_tells_the_bureau_nothing(world, afterschool_staff):
    offering(world.school_a, capacity=1)  # a course within its places
    run_checks(for_date=DAY, rules=[OVER_CAPACITY])
    assert not Finding.objects.filter(rule=OVER_CAPACITY).exists()
    assert not Notice.objects.filter(user=afterschool_staff).exists()


@pytest.fixture
def probes():
    """One rule per line, finding one serious and one warning subject-less problem each."""
    codes = ["afterschool.tests.probe", "institutions.tests.probe", "portal.tests.probe"]

    def make(code):
        def probe(for_date):
            yield Found(key="serious", message=f"{code} 严重", severity="serious")
            yield Found(key="warning", message=f"{code} 警告", severity="warning")

        register(code, title="测试：探针", severity="warning")(probe)

    for code in codes:
        make(code)
    yield codes
    for code in codes:
        compliance._registry.pop(code)


def test_each_line_hears_only_of_its_own_serious_findings(probes, afterschool_staff):
    training = _staff("peixun", "校外培训")
    cases = _staff("anli", "案例库")
    retired = _staff("tuixiu", "课后服务")
    retired.is_active = False
    retired.save()

    run_checks(for_date=DAY, rules=probes)

    def told(user):
        return sorted(Notice.objects.filter(user=user).values_list("message", flat=True))

    assert told(afterschool_staff) == ["严重检查发现：afterschool.tests.probe 严重"]
    assert told(training) == ["严重检查发现：institutions.tests.probe 严重"]
    assert told(cases) == [] and told(retired) == []  # no case-library finding; inactive
    # the shared core ("portal.") has no line group: its serious finding tells no group
    assert Notice.objects.filter(key__endswith=":serious").count() == 2
    assert line_staff("portal") == []
    assert line_staff("afterschool") == [afterschool_staff.pk]


def test_a_run_marked_failed_before_its_chunks_end_tells_nobody(
    world, full_course, afterschool_staff
):
    """The notice goes with the run's finish: a run marked failed (by the sweep or by
    staff) before its chunks came records nothing and tells nobody."""
    run, specs = compliance.run_start(for_date=DAY, rules=[OVER_CAPACITY])
    compliance.abandon_run(run.pk, reason="测试")
    for spec in specs:
        compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi)
    assert not Finding.objects.exists()
    assert not Notice.objects.exists()
    # control: the next run tells
    run_checks(for_date=DAY, rules=[OVER_CAPACITY])
    assert Notice.objects.filter(user=afterschool_staff).count() == 1
