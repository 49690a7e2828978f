"""Institution accounts (机构端, issue 16 part 1): the bureau opens the first account or
approves the institution's request; the 管理员 manages its own staff; who is refused."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from institutions import accounts
from institutions.account_models import AccountRequest, InstitutionStaff
from portal.access import INSTITUTION, kind_of
from portal.models import AuditLog
from tests.factories import InstitutionStaffFactory
from tests.institutions.helpers import make_institution
from tests.institutions.org_helpers import bureau_staff, org  # noqa: F401

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def inst(world, bureau_staff):  # noqa: F811
    return make_institution(bureau_staff, world.school_a.district)


def test_the_bureau_opens_the_first_account_with_a_one_time_password(bureau_staff, inst):  # noqa: F811
    staff, password = accounts.institution_admin_create(
        actor=bureau_staff, institution_id=inst.pk, username="mingde", name="王校长"
    )
    assert staff.role == "admin" and staff.institution == inst
    user = User.objects.get(username="mingde")
    assert user.check_password(password) and len(password) >= 12
    assert kind_of(user) == INSTITUTION
    row = AuditLog.objects.get(action="institutions.account.created")
    assert password not in str(row.new) and row.new["username"] == "mingde"
    # a second 管理员 by the bureau: refused (the first one adds the others)
    with pytest.raises(ValidationError, match="已有管理员账号"):
        accounts.institution_admin_create(
            actor=bureau_staff, institution_id=inst.pk, username="mingde2", name="李"
        )


def test_a_taken_username_is_named(bureau_staff, inst):  # noqa: F811
    User.objects.create(username="taken")
    with pytest.raises(ValidationError) as exc:
        accounts.institution_admin_create(
            actor=bureau_staff, institution_id=inst.pk, username="Taken", name="王"
        )
    assert "已被使用" in exc.value.message_dict["username"][0]


def test_only_training_staff_open_accounts(world, inst):
    for user in (world.bureau, world.principal_a, world.parent_a):
        with pytest.raises(PermissionDenied):
            accounts.institution_admin_create(
                actor=user, institution_id=inst.pk, username="x1", name="王"
            )


def test_the_request_flow_one_open_request_then_approval(bureau_staff, inst):  # noqa: F811
    row = accounts.account_request_file(
        institution_id=inst.pk, contact_name="王老师", contact_phone="13812345678"
    )
    with pytest.raises(ValidationError, match="待处理的申请"):
        accounts.account_request_file(
            institution_id=inst.pk, contact_name="李老师", contact_phone="13912345678"
        )
    with pytest.raises(ValidationError, match="不予开通时请填写理由"):
        accounts.account_request_decide(actor=bureau_staff, request_id=row.pk, approve=False)
    row, password = accounts.account_request_decide(
        actor=bureau_staff, request_id=row.pk, approve=True, username="mingde"
    )
    assert row.status == "approved" and row.staff.name == "王老师" and password
    assert AuditLog.objects.filter(action="institutions.account.request_approved").exists()
    # decided once
    with pytest.raises(ValidationError, match="已处理"):
        accounts.account_request_decide(
            actor=bureau_staff, request_id=row.pk, approve=False, reason="重复"
        )
    # with a 管理员, a new request is refused
    with pytest.raises(ValidationError, match="已开通机构账号"):
        accounts.account_request_file(
            institution_id=inst.pk, contact_name="李老师", contact_phone="13912345678"
        )


def test_a_rejected_request_leaves_room_for_a_new_one(bureau_staff, inst):  # noqa: F811
    row = accounts.account_request_file(
        institution_id=inst.pk, contact_name="王老师", contact_phone="020-12345678"
    )
    row, password = accounts.account_request_decide(
        actor=bureau_staff, request_id=row.pk, approve=False, reason="无法核实身份"
    )
    assert password is None and row.status == "rejected" and row.reason == "无法核实身份"
    accounts.account_request_file(
        institution_id=inst.pk, contact_name="王老师", contact_phone="13812345678"
    )
    assert AccountRequest.objects.filter(status="open").count() == 1


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "12345", ""])
def test_a_bad_phone_is_refused(inst, phone):
    with pytest.raises(ValidationError, match="联系电话应为11位手机号"):
        accounts.account_request_file(
            institution_id=inst.pk, contact_name="王", contact_phone=phone
        )


def test_the_public_form_masks_the_phone_and_is_throttled(client, inst, settings):
    settings.PORTAL_ORG_REQUEST_RATE_PER_HOUR = 2
    accounts.rate_clear("127.0.0.1")
    url = reverse("org:request", args=[inst.pk])
    detail = client.get(reverse("institutions:detail", args=[inst.pk])).content.decode()
    assert url in detail and "申请机构账号" in detail
    bad = client.post(url, {"contact_name": "王", "contact_phone": "123"})
    assert bad.status_code == 400 and "联系电话应为11位手机号" in bad.content.decode()
    ok = client.post(url, {"contact_name": "王老师", "contact_phone": "13812345678"})
    html = ok.content.decode()
    assert ok.status_code == 200 and "138****5678" in html and "13812345678" not in html
    # a refused attempt gave its slot back; two used now: the third is the 429 page
    again = client.post(url, {"contact_name": "王老师", "contact_phone": "13812345678"})
    assert again.status_code == 400 and "待处理的申请" in again.content.decode()
    assert client.post(url, {"contact_name": "王", "contact_phone": "13812345678"}).status_code
    accounts.rate_clear("127.0.0.1")


def test_the_rate_limit_refuses_past_the_hourly_number(client, inst, settings):
    settings.PORTAL_ORG_REQUEST_RATE_PER_HOUR = 1
    accounts.rate_clear("127.0.0.1")
    url = reverse("org:request", args=[inst.pk])
    assert (
        client.post(url, {"contact_name": "王", "contact_phone": "13812345678"}).status_code == 200
    )
    response = client.post(url, {"contact_name": "王", "contact_phone": "13812345678"})
    assert response.status_code == 429
    assert AccountRequest.objects.count() == 1
    accounts.rate_clear("127.0.0.1")


def test_the_queue_masks_the_phone(client_for, bureau_staff, inst):  # noqa: F811
    accounts.account_request_file(
        institution_id=inst.pk, contact_name="王老师", contact_phone="13812345678"
    )
    html = client_for(bureau_staff).get(reverse("org:accounts")).content.decode()
    assert "138****5678" in html and "13812345678" not in html


def test_the_admin_adds_and_deactivates_its_own_staff(org):  # noqa: F811
    _staff, inst, admin = org
    desk, password = accounts.staff_add(actor=admin, username="desk1", name="前台", role="desk")
    assert desk.institution == inst and kind_of(desk.user) == INSTITUTION
    accounts.staff_deactivate(actor=admin, staff_id=desk.pk)
    desk.refresh_from_db()
    assert not desk.active and kind_of(User.objects.get(pk=desk.user_id)) != INSTITUTION
    with pytest.raises(ValidationError, match="不能停用自己"):
        accounts.staff_deactivate(actor=admin, staff_id=admin.institution_staff.pk)
    with pytest.raises(ValidationError, match="请选择角色"):
        accounts.staff_add(actor=admin, username="x2", name="某", role="boss")


def test_a_desk_user_adds_no_staff_and_nobody_touches_another_institutions(org):  # noqa: F811
    _staff, inst, admin = org
    desk, _pw = accounts.staff_add(actor=admin, username="desk1", name="前台", role="desk")
    with pytest.raises(PermissionDenied):
        accounts.staff_add(actor=desk.user, username="desk2", name="前台2", role="desk")
    other = InstitutionStaffFactory(role="desk")
    with pytest.raises(PermissionDenied):
        accounts.staff_deactivate(actor=admin, staff_id=other.pk)
    other.refresh_from_db()
    assert other.active


def test_the_staff_pages_scope_and_refuse(client_for, world, org):  # noqa: F811
    _staff, inst, admin = org
    other = InstitutionStaffFactory(role="desk")
    client = client_for(admin)
    html = client.get(reverse("org:staff")).content.decode()
    assert other.name not in html
    response = client.post(reverse("org:staff_deactivate", args=[other.pk]))
    assert response.status_code == 404
    created = client.post(
        reverse("org:staff"), {"username": "fin1", "name": "会计", "role": "finance"}
    )
    page = created.content.decode()
    assert "初始密码" in page and created["Cache-Control"].startswith("max-age=0")
    fin = InstitutionStaff.objects.get(user__username="fin1")
    for user in (fin.user, world.principal_a, world.parent_a, world.bureau):
        assert client_for(user).get(reverse("org:staff")).status_code == 403


def test_me_sends_institution_staff_to_their_home(client_for, org):  # noqa: F811
    _staff, _inst, admin = org
    response = client_for(admin).get(reverse("portal:me"))
    assert response.status_code == 302 and response["Location"] == reverse("org:home")


def test_the_admin_action_approves_through_the_service(client_for, superuser, inst):
    row = accounts.account_request_file(
        institution_id=inst.pk, contact_name="王老师", contact_phone="13812345678"
    )
    response = client_for(superuser).post(
        reverse("admin:institutions_accountrequest_changelist"),
        {"action": "approve", "_selected_action": [row.pk]},
    )
    assert response.status_code == 200 and "初始密码" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "approved" and row.staff.user.username == inst.credit_code


def test_the_new_user_replaces_the_initial_password(client_for, bureau_staff, inst):  # noqa: F811
    staff, password = accounts.institution_admin_create(
        actor=bureau_staff, institution_id=inst.pk, username="mingde", name="王校长"
    )
    client = client_for(staff.user)
    short = client.post(
        reverse("org:password"),
        {"old_password": password, "new_password1": "Ab1", "new_password2": "Ab1"},
    )
    assert "密码太短" in short.content.decode()
    response = client.post(
        reverse("org:password"),
        {"old_password": password, "new_password1": "Xin-mima-2026-jg",
         "new_password2": "Xin-mima-2026-jg"},
    )  # fmt: skip
    assert response.status_code == 302
    user = User.objects.get(pk=staff.user_id)
    assert user.check_password("Xin-mima-2026-jg") and not user.check_password(password)
    assert AuditLog.objects.filter(action="auth.password_changed", object_id=str(user.pk))
    assert client.get(reverse("org:home")).status_code == 200  # still logged in
