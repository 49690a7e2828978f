"""One permission module: the dashboard is bureau staff's; anonymous users get the portal's
login, everyone else refused the portal's 403 page (never the admin's login); a database
error while deciding who a user is stays an error, never a 403."""

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.access import kind_of
from portal.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(db):
    today = timezone.localdate()
    return Finding.objects.create(
        rule="r", severity="info", subject_key="k", message="m", first_seen=today,
        last_seen=today,
    )  # fmt: skip


def dashboard_urls(finding):
    return [
        reverse("dashboard:index"),
        reverse("dashboard:report", args=["homework"]),
        reverse("dashboard:findings"),
        reverse("dashboard:finding", args=[finding.pk]),
    ]


def test_anonymous_users_get_the_portals_login_not_the_admins(client_for, finding):
    login = resolve_url(settings.LOGIN_URL)
    assert login == reverse("login") and not login.startswith("/admin")
    for url in dashboard_urls(finding):
        r = client_for(None).get(url)
        assert r.status_code == 302
        assert r["Location"].startswith(f"{login}?next="), url


def test_school_staff_and_parents_get_the_portals_403_page(world, client_for, finding):
    for user in (world.principal_a, world.teacher_a, world.parent_a):
        for url in dashboard_urls(finding):
            r = client_for(user).get(url)
            assert r.status_code == 403, url
            assert "无权访问" in r.content.decode()
            assert [t.name for t in r.templates][0] == "403.html"


def test_bureau_staff_open_the_dashboard(world, client_for, finding):
    c = client_for(world.bureau)
    for url in dashboard_urls(finding):
        assert c.get(url).status_code == 200, url


def test_a_staff_flag_without_a_bureau_kind_is_not_enough_for_the_inactive(
    world, client_for, finding
):
    world.bureau.is_active = False
    world.bureau.save()
    r = client_for(world.bureau).get(reverse("dashboard:index"))
    assert r.status_code == 302  # an inactive account is nobody: back to the login


def _fail_on_school_staff(execute, sql, params, many, context):
    if "portal_schoolstaff" in sql:
        raise OperationalError("the database went away")
    return execute(sql, params, many, context)


def test_a_database_error_in_kind_of_propagates(world):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=world.principal_a.pk)  # school_staff not loaded
    with connection.execute_wrapper(_fail_on_school_staff):
        with pytest.raises(OperationalError):
            kind_of(user)
    assert kind_of(user) == "school"  # and with the database back, the right kind


def test_a_database_error_on_a_page_is_a_500_not_a_403(world):
    c = Client(raise_request_exception=False)
    c.force_login(world.principal_a, backend="django.contrib.auth.backends.ModelBackend")
    with connection.execute_wrapper(_fail_on_school_staff):
        r = c.get(reverse("portal:school_home"))
    assert r.status_code == 500
    assert c.get(reverse("portal:school_home")).status_code == 200


OLD_IDIOMS = (  # regular expressions
    r"\bstaff_member_required\b",
    r"\bfor_kind\b",
    r"\bstaff_required\b",
    r"\b_staff_with\b",
    r"\bdef _staff\(",
    r"\bdef _reviewer\(",
    r"\.is_staff\b",
)


def test_no_view_module_has_a_permission_idiom_of_its_own():
    """Every view module of the five apps decides who may open it through
    portal.permissions, never through a local decorator or an inline is_staff check."""
    import re
    from pathlib import Path

    from django.conf import settings

    base = Path(settings.BASE_DIR)
    modules = [
        path
        for app in ("portal", "institutions", "homework", "afterschool", "cases")
        for path in sorted((base / app).glob("*.py"))
        if path.name == "views.py" or path.name.endswith("_views.py")
    ]
    assert len(modules) > 10
    offenders = [
        f"{path.relative_to(base)}: {idiom}"
        for path in modules
        for idiom in OLD_IDIOMS
        if re.search(idiom, path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_bureau_of_line_is_the_queryset_twin_of_is_bureau(world, superuser):
    from django.contrib.auth.models import Permission

    from portal.permissions import bureau_of_line, is_bureau
    from tests.factories import UserFactory

    direct = UserFactory(username="direct_perm", is_staff=True)
    direct.user_permissions.add(Permission.objects.get(codename="view_homeworkitem"))
    not_staff = UserFactory(username="perm_not_staff")
    not_staff.user_permissions.add(Permission.objects.get(codename="view_homeworkitem"))
    users = [world.bureau, direct, not_staff, superuser, world.principal_a, world.parent_a]
    for line in ("homework", "afterschool"):
        expected = {u.pk for u in users if is_bureau(type(u).objects.get(pk=u.pk), line=line)}
        assert set(bureau_of_line(line).values_list("pk", flat=True)) == expected
    assert world.bureau.pk in set(bureau_of_line("homework").values_list("pk", flat=True))
    assert world.bureau.pk not in set(bureau_of_line("afterschool").values_list("pk", flat=True))
