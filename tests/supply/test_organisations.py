"""Organisation accounts (registration, members) and the bureau's expert pool."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from portal.access import NOBODY, ORGANISATION, kind_of
from portal.models import AuditLog
from supply import organisations
from supply.account_models import Expert, Organisation, OrganisationMember
from tests.supply import call_helpers
from tests.supply.call_helpers import bureau_officer

pytestmark = pytest.mark.django_db

fast_passwords = call_helpers.fast_passwords

CODE = "91350100M000100Y43"  # a valid USCC (institutions.uscc)
PASSWORD = "Sunshine-2027-pass"


def register(**kw):
    data = dict(
        name="阳光体育俱乐部", credit_code=CODE, kind="club", contact_name="王经理",
        contact_phone="13900001234", username="yangguang", member_name="王经理",
        password1=PASSWORD, password2=PASSWORD,
    )  # fmt: skip
    data.update(kw)
    return organisations.organisation_register(**data)


def test_a_registration_creates_the_organisation_its_admin_and_the_user():
    org, m = register()
    assert org.credit_code == CODE and m.role == "admin" and m.organisation == org
    assert kind_of(m.user) == ORGANISATION
    assert m.user.check_password(PASSWORD)
    log = AuditLog.objects.get(action="supply.organisation.registered")
    assert log.new["contact_phone"] != "13900001234"  # masked


def test_a_second_registration_of_the_same_code_is_refused():
    register()
    with pytest.raises(ValidationError) as exc:
        register(username="another")
    assert exc.value.message_dict["credit_code"] == [
        f"统一社会信用代码{CODE}已注册，请由本组织管理员登录。"
    ]
    assert Organisation.objects.count() == 1
    assert not get_user_model().objects.filter(username="another").exists()


def test_a_bad_credit_code_is_refused_naming_the_check_character():
    with pytest.raises(ValidationError) as exc:
        register(credit_code=CODE[:17] + "0")
    assert "校验位不正确" in exc.value.message_dict["credit_code"][0]
    assert not Organisation.objects.exists() and not get_user_model().objects.exists()


def test_mismatched_passwords_are_refused():
    with pytest.raises(ValidationError) as exc:
        register(password2="other-password-2027")
    assert exc.value.message_dict["password2"] == ["两次输入的密码不一致。"]


def test_the_admin_adds_and_deactivates_staff():
    org, admin = register()
    staff, password = organisations.member_add(actor=admin.user, username="yg_staff", name="李")
    assert staff.organisation == org and staff.role == "staff" and len(password) >= 12
    with pytest.raises(PermissionDenied):  # staff do not add members
        organisations.member_add(actor=staff.user, username="x2", name="赵")
    with pytest.raises(ValidationError):
        organisations.member_deactivate(actor=admin.user, member_id=admin.pk)
    organisations.member_deactivate(actor=admin.user, member_id=staff.pk)
    staff.refresh_from_db()
    assert not staff.active and kind_of(staff.user) == NOBODY


def test_an_admin_cannot_deactivate_another_organisations_member():
    _org, admin = register()
    from tests.factories import OrganisationMemberFactory

    other = OrganisationMemberFactory()
    with pytest.raises(PermissionDenied):
        organisations.member_deactivate(actor=admin.user, member_id=other.pk)


def test_the_bureau_deactivates_an_organisation():
    bureau = bureau_officer()
    org, admin = register()
    with pytest.raises(ValidationError):
        organisations.organisation_deactivate(actor=bureau, organisation_id=org.pk, reason="")
    organisations.organisation_deactivate(actor=bureau, organisation_id=org.pk, reason="弄虚作假")
    org.refresh_from_db()
    assert not org.active and org.deactivated_reason == "弄虚作假"
    assert not OrganisationMember.objects.get(pk=admin.pk).active
    with pytest.raises(PermissionDenied):
        organisations.organisation_deactivate(actor=admin.user, organisation_id=org.pk, reason="x")


def test_the_bureau_keeps_the_expert_pool(world):
    bureau = bureau_officer()
    expert, password = organisations.expert_create(
        actor=bureau, username="zhuanjia1", name="周教授", field="体育"
    )
    assert expert.user.check_password(password) and expert.active
    assert "password" not in str(AuditLog.objects.get(action="supply.expert.created").new)
    with pytest.raises(ValidationError) as exc:
        organisations.expert_create(actor=bureau, username="zhuanjia1", name="吴")
    assert "已被使用" in str(exc.value)
    with pytest.raises(PermissionDenied):
        organisations.expert_create(actor=world.bureau, username="z2", name="吴")
    organisations.expert_deactivate(actor=bureau, expert_id=expert.pk)
    assert not Expert.objects.get(pk=expert.pk).active


def test_an_expert_replaces_the_one_time_password(client_for):
    bureau = bureau_officer()
    expert, password = organisations.expert_create(actor=bureau, username="zj_pw", name="周")
    new = "Zhuanjia-new-2027"
    c = client_for(expert.user)
    r = c.post("/calls/password/", {"old_password": "wrong", "new_password1": new,
                                    "new_password2": new})  # fmt: skip
    assert r.status_code == 400
    r = c.post("/calls/password/", {"old_password": password, "new_password1": new,
                                    "new_password2": new})  # fmt: skip
    assert r.status_code == 302 and r["Location"] == "/calls/expert/"
    expert.user.refresh_from_db()
    assert expert.user.check_password(new)
    assert AuditLog.objects.filter(action="auth.password_changed").count() == 1
