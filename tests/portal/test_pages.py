import pytest
from django.core.management import call_command
from django.urls import reverse

from portal.models import Child, SchoolClass
from portal.setup import STAFF_GROUPS

pytestmark = pytest.mark.django_db


def test_the_home_page_is_chinese_and_phone_sized(client):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert 'name="viewport"' in html
    assert "双减工作平台" in html and "典型案例" in html


def test_english_is_available_through_i18n(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Double Reduction Portal" in html and "Training institution search" in html
    chinese = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "双减工作平台" in chinese and "Double Reduction Portal" not in chinese


def test_the_admin_speaks_chinese(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert "双减工作平台" in html and "用户名" in html


def test_healthz_reaches_the_database_and_redis(client):
    assert client.get(reverse("healthz")).json() == {
        "database": "ok",
        "redis": "ok",
        "broker": "ok",
    }


def test_the_api_schema_is_served(client):
    assert client.get(reverse("api-schema")).status_code == 200


def test_staff_groups_exist_for_each_line_of_work():
    from django.contrib.auth.models import Group

    assert set(STAFF_GROUPS) <= set(Group.objects.values_list("name", flat=True))


def test_the_demo_district_loads_twice_without_duplicates(capsys):
    call_command("load_demo")
    first = capsys.readouterr().out
    from cases.models import Case
    from homework.models import HomeworkItem

    counts = (SchoolClass.objects.count(), Child.objects.count(), Case.objects.count(),
              HomeworkItem.objects.count())  # fmt: skip
    call_command("load_demo")
    second = capsys.readouterr().out
    assert "密码只显示这一次" in first and "bureau_admin" in first
    assert "未新增账号" in second and "bureau_admin" not in second
    assert counts[2] == 67 and counts[3] > 0
    assert (SchoolClass.objects.count(), Child.objects.count(), Case.objects.count(),
            HomeworkItem.objects.count()) == counts  # fmt: skip


def test_demo_passwords_are_generated_not_fixed(capsys):
    call_command("load_demo")
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if "principal_" in line]
    passwords = [parts[1] for parts in lines]
    assert len(passwords) == 2 and len(set(passwords)) == 2 and all(len(p) >= 12 for p in passwords)


def test_ping_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/ping").content == b"ok"


def test_an_existing_group_gets_the_permissions_of_models_added_later():
    from django.contrib.auth.models import Group, Permission
    from django.db.migrations.operations import CreateModel

    from portal.setup import ensure_staff_groups

    removed = Permission.objects.filter(content_type__app_label="homework").first()

    class Migration:
        app_label = "homework"
        operations = [CreateModel("Survey", fields=[])]

    homework_group = Group.objects.get(name="基础教育/作业")
    homework_group.permissions.remove(removed)  # staff took one away
    ensure_staff_groups(plan=[(Migration, False)])
    codenames = set(homework_group.permissions.values_list("codename", flat=True))
    assert {"add_survey", "view_survey"} <= codenames
    if removed.content_type.model != "survey":
        assert removed.codename not in codenames  # not given back
