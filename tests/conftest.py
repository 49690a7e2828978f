"""Personas shared by every test: who may and who must be refused."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from portal.models import SchoolStaff
from tests.factories import (
    ChildFactory,
    ParentFactory,
    SchoolClassFactory,
    SchoolFactory,
    SchoolStaffFactory,
    UserFactory,
)


@dataclass
class World:
    school_a: object
    school_b: object
    class_a: object
    class_b: object
    principal_a: object
    teacher_a: object
    principal_b: object
    parent_a: object
    child_a: object
    child_b: object
    bureau: object


@pytest.fixture
def world(db):
    school_a = SchoolFactory(name="甲小学")
    school_b = SchoolFactory(name="乙小学", district=school_a.district)
    class_a = SchoolClassFactory(school=school_a, grade=3, number=1)
    class_b = SchoolClassFactory(school=school_b, grade=3, number=1)
    principal_a = SchoolStaffFactory(
        school=school_a, role=SchoolStaff.Role.PRINCIPAL, name="甲校长", user__username="pa"
    )
    teacher_a = SchoolStaffFactory(school=school_a, name="甲老师", user__username="ta")
    principal_b = SchoolStaffFactory(
        school=school_b, role=SchoolStaff.Role.PRINCIPAL, name="乙校长", user__username="pb"
    )
    parent_a = ParentFactory(user__username="parent_a", phone="13812345678", name="甲家长")
    child_a = ChildFactory(school_class=class_a, name="甲同学")
    child_a.parents.add(parent_a)
    child_b = ChildFactory(school_class=class_b, name="乙同学")
    bureau = UserFactory(username="bureau", is_staff=True)
    bureau.groups.add(Group.objects.get(name="基础教育/作业"))
    return World(
        school_a=school_a,
        school_b=school_b,
        class_a=class_a,
        class_b=class_b,
        principal_a=principal_a.user,
        teacher_a=teacher_a.user,
        principal_b=principal_b.user,
        parent_a=parent_a.user,
        child_a=child_a,
        child_b=child_b,
        bureau=bureau,
    )


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client logged in as user (None: anonymous)."""

    def make(user):
        client.logout()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "x-Root-2026!")


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Users made by tests hash their password with MD5 instead of Argon2 (a quarter of a
    second and 100 MB each here: the suite made thousands of them). The tests of the
    production hashers say so with ``@pytest.mark.production_hashers``."""
    if request.node.get_closest_marker("production_hashers") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _test_checks_unregistered():
    """A check a test registers for itself (portal.compliance.register) is gone after the
    test, even when the test fails before its own clean-up: otherwise the next test on the
    same worker, whichever it is, would run it (or fail registering its code again)."""
    from portal import compliance

    before = set(compliance._registry)
    yield
    for code in set(compliance._registry) - before:
        if compliance._registry[code].func.__module__.split(".")[0] == "tests":
            del compliance._registry[code]
