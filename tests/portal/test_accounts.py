"""Accounts: passwords of at least 12 characters refused in Chinese; failed logins locked
per user + address and, at a higher limit of its own, per address; every password change
audited, never with the password or its hash."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from portal.models import AuditLog
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_a_password_of_11_characters_is_refused_in_chinese_and_12_pass(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override(settings.LANGUAGE_CODE):
        with pytest.raises(ValidationError) as exc:
            validate_password("Zq8#kLm2!xP")  # 11
        message = " ".join(exc.value.messages)
        assert "密码太短，至少需要 12 个字符" in message
        validate_password("Zq8#kLm2!xPw")  # 12: no error
        with pytest.raises(ValidationError) as exc:
            validate_password("123456789012345")
        assert "密码只包含数字" in " ".join(exc.value.messages)  # Django's own, in Chinese


def _fail(client, username, address):
    return client.post(
        reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=address
    )


def _login(client, address):
    return client.post(
        reverse("login"), {"username": "pa", "password": PASSWORD}, REMOTE_ADDR=address
    )


def test_one_address_is_locked_at_its_own_higher_limit(world, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for n in range(5):  # five names, one typo each, from one school's NAT address
        _fail(client, f"teacher{n}", "10.1.1.1")
    assert _login(client, "10.1.1.1").status_code == 302  # more than the per-user limit: fine
    client.logout()


def test_one_address_trying_many_names_is_locked(world, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for n in range(6):
        _fail(client, f"guess{n}", "10.1.1.2")
    locked = _login(client, "10.1.1.2")
    assert locked.status_code == 429 and "暂时锁定" in locked.content.decode()
    assert _login(client, "10.9.9.9").status_code == 302  # another address is not


def test_one_user_at_one_address_is_locked_at_the_per_user_limit(world, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for _ in range(3):
        _fail(client, "pa", "10.1.1.3")
    assert _login(client, "10.1.1.3").status_code == 429
    assert _login(client, "10.1.1.4").status_code == 302


def test_a_password_change_is_audited_without_the_password(world):
    user = world.principal_a
    user.set_password("Xin-mima-2026-abc")
    user.save()
    row = AuditLog.objects.get(action="auth.password_changed")
    assert row.object_id == str(user.pk) and row.actor is None and row.actor_repr == "system"
    assert row.new == {"user": "pa", "by_self": False}
    stored = repr(row.old) + repr(row.new) + row.object_repr
    assert "Xin-mima" not in stored and user.password not in stored


def test_saving_a_user_without_a_new_password_is_not_a_password_change(
    world, django_assert_num_queries
):
    user = world.principal_a
    from django.utils import timezone

    user.last_login = timezone.now()
    with django_assert_num_queries(1):  # the login's last_login: no extra query
        user.save(update_fields=["last_login"])
    user.first_name = "甲"
    user.save()
    assert not AuditLog.objects.filter(action="auth.password_changed").exists()


@pytest.mark.production_hashers
def test_the_login_hash_upgrade_is_not_a_password_change(world, settings):
    from django.contrib.auth import get_user_model

    # a user whose hash was made with the second hasher: the next login rehashes it
    user = world.principal_a
    from django.contrib.auth.hashers import make_password

    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    AuditLog.objects.all().delete()
    user = get_user_model().objects.get(pk=user.pk)
    assert user.check_password(PASSWORD)  # upgrades to argon2 and saves
    assert user.password.startswith("argon2")
    assert not AuditLog.objects.filter(action="auth.password_changed").exists()


@pytest.mark.django_db(transaction=True)
def test_setting_a_users_password_in_the_admin_is_audited_once(world, superuser, client_for):
    c = client_for(superuser)
    url = reverse("admin:auth_user_password_change", args=[world.teacher_a.pk])
    short = c.post(url, {"password1": "short-1", "password2": "short-1", "usable_password": "true"})
    assert short.status_code == 200 and "密码太短，至少需要 12 个字符" in short.content.decode()
    assert not AuditLog.objects.filter(action="auth.password_changed").exists()
    new = "Xin-mima-2026-abc"
    r = c.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert r.status_code == 302
    row = AuditLog.objects.get(action="auth.password_changed")
    assert row.actor == superuser and row.new == {"user": "ta", "by_self": False}
    assert new not in repr(row.new)


@pytest.mark.django_db(transaction=True)
def test_a_staff_users_own_password_change_is_audited_as_theirs(world, client_for):
    c = client_for(world.bureau)
    new = "Xin-mima-2026-abc"
    r = c.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert r.status_code == 302
    row = AuditLog.objects.get(action="auth.password_changed")
    assert row.actor == world.bureau and row.new["by_self"] is True


def test_the_changepassword_command_is_audited_as_system(world, monkeypatch):
    from django.core.management import call_command

    answers = iter(["Xin-mima-2026-abc", "Xin-mima-2026-abc"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("changepassword", "ta", stdout=__import__("io").StringIO())
    assert AuditLog.objects.get(action="auth.password_changed").actor_repr == "system"


def test_a_new_user_is_not_a_password_change(db):
    UserFactory(username="newbie")
    assert not AuditLog.objects.filter(action="auth.password_changed").exists()
