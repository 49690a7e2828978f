"""Shared builders of the calls tests: a bureau officer of 课后服务, a call, applications and a
panel, written through the services (deadline moves are test-only ORM updates)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from supply import calls
from supply.call_models import Call
from tests.factories import ExpertFactory, OrganisationMemberFactory, UserFactory

PDF = b"%PDF-1.4\n% a licence\n"
CRITERIA = [("资质", 20), ("课程方案", 30), ("师资", 25), ("价格", 15), ("安全", 10)]


def bureau_officer(username="bureau_as_calls"):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


def pdf(name="执照.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def open_call(actor, *, admit_count=2, tie_criterion="课程方案", criteria=None, **kw):
    today = timezone.localdate()
    return calls.call_open(
        actor=actor,
        title=kw.pop("title", "2027年课后服务机构公开征集"),
        service_kinds="体育、艺术、科技",
        deadline=kw.pop("deadline", timezone.now() + dt.timedelta(days=7)),
        criteria=criteria or CRITERIA,
        admit_count=admit_count,
        service_start=today,
        service_end=today + dt.timedelta(days=365),
        tie_criterion=tie_criterion,
        **kw,
    )


def member(username=None, **kw):
    if username:
        kw["user__username"] = username
    return OrganisationMemberFactory(**kw)


def apply(call, org_member, *, price="40", outside="80", when=None):
    return calls.application_submit(
        actor=org_member.user,
        call_id=call.pk,
        service_items="篮球、足球",
        price_per_lesson=Decimal(price),
        outside_price=Decimal(outside),
        plan="每周两次",
        files=[pdf()],
        now=when,
    )


def close(call):
    """Move the deadline into the past (the test's clock; scoring starts after it)."""
    Call.objects.filter(pk=call.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    call.refresh_from_db()


def panel(actor, call, n):
    experts = [ExpertFactory() for _ in range(n)]
    for e in experts:
        calls.expert_assign(actor=actor, call_id=call.pk, expert_id=e.pk)
    return experts


def score(expert, application, values):
    """values: a list in criteria order, or {criterion name: value}."""
    criteria = list(application.call.criteria.all())
    if isinstance(values, list | tuple):
        values = dict(zip([c.name for c in criteria], values, strict=True))
    return calls.score_save(
        actor=expert.user,
        application_id=application.pk,
        values={c.pk: values[c.name] for c in criteria},
    )


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Argon2 (production's hasher) would make every user of these tests slow; the
    passwords' hashing is tested elsewhere."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
