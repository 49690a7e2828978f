import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.production_hashers
def test_passwords_are_hashed_with_argon2(world):
    world.principal_a.refresh_from_db()
    assert identify_hasher(world.principal_a.password).algorithm == "argon2"


def test_a_bad_login_is_refused_in_chinese_and_keeps_the_username(world, client):
    response = client.post(reverse("login"), {"username": "pa", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "用户名或密码不正确" in html
    assert 'value="pa"' in html


def test_an_empty_login_names_the_missing_field(client, db):
    html = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert "请填写用户名" in html and "请填写密码" in html


def test_a_good_login_lands_on_the_users_own_page(world, client):
    response = client.post(reverse("login"), {"username": "pa", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:me")


def test_repeated_failures_lock_the_account_out(world, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "pa", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "pa", "password": PASSWORD})
    assert locked.status_code == 429
    assert "暂时锁定" in locked.content.decode()


def test_pages_carry_a_csp_without_inline_scripts(client, db):
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    assert "<script>" not in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_cookies_are_httponly(world, client):
    response = client.post(reverse("login"), {"username": "pa", "password": PASSWORD})
    assert response.cookies["sessionid"]["httponly"]


def test_forms_need_a_csrf_token(world, db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "pa", "password": PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def test_login_throttling_trusts_only_the_configured_proxies(rf, settings):
    from portal.access import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.7", REMOTE_ADDR="10.0.0.1")
    settings.PORTAL_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.PORTAL_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.7"
