"""The register's writes as production runs them (no ATOMIC_REQUESTS, ``transaction=True``):
the admin's add, change and delete pages call the same services as the Excel import
(registration with its checks, the audit row, the list colour); the export's audit row, the
statement re-match and the course page go through services too. Bureau staff of another
line of work are refused everywhere, and nothing is written for them."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from institutions import escrow, services
from institutions.models import Course, Institution, ListChange, SupervisedAccount
from portal.models import AuditLog
from tests.institutions.conftest import escrow_institution
from tests.institutions.helpers import credit_code, make_institution, training_staff

pytestmark = pytest.mark.django_db(transaction=True)

INLINES = ("supervised_account", "reviews", "governance_steps")


def audits(action: str) -> int:
    return AuditLog.objects.filter(action=action).count()


def management(initial=None, total=None):
    """The inline formsets' management forms, each empty (or with ``initial`` rows)."""
    data = {}
    for prefix in INLINES:
        count = (initial or {}).get(prefix, 0)
        data |= {
            f"{prefix}-TOTAL_FORMS": str((total or {}).get(prefix, count)),
            f"{prefix}-INITIAL_FORMS": str(count),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data


def institution_form(district, **overrides):
    data = {
        "name": "新登记学科培训学校", "credit_code": credit_code(), "category": "subject",
        "subjects": "数学", "mode": "offline", "nature": "non_profit", "address": "",
        "district": str(district.pk), "scale": "120", "licence_number": "教民9001号",
        "licence_issued": "2025-01-01", "licence_expires": "2028-12-31",
        "credit_code_override_reason": "",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.fixture
def staff(db):
    return training_staff()


# --- the admin's add page: the registration service --------------------------------------


def test_the_admin_registers_through_the_service(world, client_for, staff):
    district = world.school_a.district
    response = client_for(staff).post(
        reverse("admin:institutions_institution_add"),
        institution_form(district) | management(),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    institution = Institution.objects.get(name="新登记学科培训学校")
    # what the registration does and the admin did not before: governance, grams, colour
    assert institution.governance == Institution.Governance.PENDING
    assert institution.name_grams is not None
    assert ListChange.objects.filter(institution=institution).exists()
    log = AuditLog.objects.get(action="institutions.institution.registered")
    assert log.actor == staff and log.object_id == str(institution.pk)


def test_the_admin_registers_the_supervised_account_inline_with_audit(world, client_for, staff):
    district = world.school_a.district
    inline = {
        "supervised_account-0-kind": "escrow", "supervised_account-0-bank": "工商银行",
        "supervised_account-0-account_name": "新登记学科培训学校",
        "supervised_account-0-account_number": "6222020200112233",
        "supervised_account-0-deposit_amount": "0", "supervised_account-0-active": "on",
        "supervised_account-0-opened_on": "2026-01-05",
    }  # fmt: skip
    response = client_for(staff).post(
        reverse("admin:institutions_institution_add"),
        institution_form(district) | management(total={"supervised_account": 1}) | inline,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    institution = Institution.objects.get(name="新登记学科培训学校")
    assert SupervisedAccount.objects.get(institution=institution).bank == "工商银行"
    assert audits("institutions.supervisedaccount.added") == 1


def test_a_bad_credit_code_in_the_admin_says_why_and_writes_nothing(world, client_for, staff):
    response = client_for(staff).post(
        reverse("admin:institutions_institution_add"),
        institution_form(world.school_a.district, credit_code="91350100M000100Y44") | management(),
    )
    assert response.status_code == 200 and "校验位不正确" in response.content.decode()
    assert not Institution.objects.exists() and not AuditLog.objects.exists()


def test_bureau_staff_of_another_line_cannot_register(world, client_for):
    response = client_for(world.bureau).post(
        reverse("admin:institutions_institution_add"),
        institution_form(world.school_a.district) | management(),
    )
    assert response.status_code == 403
    assert not Institution.objects.exists() and not AuditLog.objects.exists()
    with pytest.raises(PermissionDenied):
        make_institution(world.bureau, world.school_a.district)
    assert not Institution.objects.exists()


# --- the admin's change and delete ---------------------------------------------------------


def test_the_admin_change_is_audited_and_the_name_searchable(world, client_for, staff):
    institution = make_institution(staff, world.school_a.district, white=False)
    data = institution_form(
        world.school_a.district, name="改名后的培训学校", credit_code=institution.credit_code
    )
    response = client_for(staff).post(
        reverse("admin:institutions_institution_change", args=[institution.pk]),
        data | management(),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    log = AuditLog.objects.get(action="institutions.institution.changed")
    assert log.old["name"] == "明德学科培训学校" and log.new["name"] == "改名后的培训学校"
    from institutions.selectors import public_search

    assert [i.pk for i in public_search(q="改名后")] == [institution.pk]


def test_a_change_by_staff_of_another_line_is_refused_and_writes_nothing(world, client_for, staff):
    institution = make_institution(staff, world.school_a.district, white=False)
    before = AuditLog.objects.count()
    response = client_for(world.bureau).post(
        reverse("admin:institutions_institution_change", args=[institution.pk]),
        institution_form(world.school_a.district, name="改名", credit_code=institution.credit_code)
        | management(),
    )
    assert response.status_code == 403
    assert Institution.objects.get().name == "明德学科培训学校"
    assert AuditLog.objects.count() == before
    with pytest.raises(PermissionDenied):
        institution.name = "改名"
        services.institution_change(actor=world.bureau, institution=institution, changed=["name"])
    assert Institution.objects.get().name == "明德学科培训学校"


def test_the_admin_keeps_a_registered_institution_and_its_list_history(world, client_for, staff):
    # the list history (ListChange, read-only in the admin) cannot be deleted, so neither
    # can the institution: deregistration is a governance step
    institution = make_institution(staff, world.school_a.district, white=False)
    url = reverse("admin:institutions_institution_delete", args=[institution.pk])
    for user in (world.bureau, staff):
        assert client_for(user).post(url, {"post": "yes"}).status_code == 403
    response = client_for(staff).post(
        reverse("admin:institutions_institution_changelist"),
        {"action": "delete_selected", "_selected_action": [institution.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert Institution.objects.exists() and audits("institutions.institution.deleted") == 0


def test_the_delete_service_audits_each_row_and_refuses_other_lines(world, staff):
    ids = [
        make_institution(staff, world.school_a.district, name=f"机构{i}", white=False).pk
        for i in range(2)
    ]
    with pytest.raises(PermissionDenied):
        services.institutions_delete(actor=world.bureau, institution_ids=ids)
    assert Institution.objects.count() == 2 and audits("institutions.institution.deleted") == 0
    assert services.institutions_delete(actor=staff, institution_ids=ids) == 2
    assert not Institution.objects.exists()
    logs = AuditLog.objects.filter(action="institutions.institution.deleted")
    assert sorted(int(log.object_id) for log in logs) == sorted(ids)
    assert {log.old["name"] for log in logs} == {"机构0", "机构1"}


# --- the export's audit row ----------------------------------------------------------------


def test_the_export_is_audited_for_training_staff_only(world, client_for, staff):
    make_institution(staff, world.school_a.district, white=False)
    assert client_for(world.bureau).get(reverse("institutions:export")).status_code == 403
    assert audits("institutions.register.exported") == 0
    assert client_for(staff).get(reverse("institutions:export")).status_code == 200
    log = AuditLog.objects.get(action="institutions.register.exported")
    assert log.actor == staff and log.new == {"count": 1}


# --- the statement re-match ------------------------------------------------------------------


def test_the_rematch_runs_in_a_transaction_with_its_audit_row(world, client_for, staff):
    account = escrow_institution().supervised_account
    url = reverse("institutions:escrow_rematch", args=[account.pk])
    assert client_for(world.bureau).post(url).status_code == 403
    assert audits("institutions.escrow.statement_rematched") == 0
    response = client_for(staff).post(url, follow=True)
    assert response.status_code == 200 and "重新核对完成" in response.content.decode()
    log = AuditLog.objects.get(action="institutions.escrow.statement_rematched")
    assert log.actor == staff and log.object_id == str(account.pk)
    with pytest.raises(PermissionDenied):
        escrow.statement_rematch(actor=world.principal_a, account_id=account.pk)


# --- the course page: bureau staff of the line ---------------------------------------------


def course_form(**overrides):
    data = {
        "name": "少儿编程", "subject": "科技", "mode": "offline", "lesson_minutes": "45",
        "class_size": "20", "price_per_lesson": "25.00", "term_start": "2026-11-02",
        "term_end": "2026-12-25", "slots": "周三 18:30-19:15",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_the_course_page_refuses_staff_of_another_line_and_writes_nothing(world, client_for, staff):
    institution = make_institution(
        staff, world.school_a.district, category="non_subject", subjects=["科技"], white=False
    )
    url = reverse("institutions:course_new", args=[institution.pk])
    assert client_for(world.bureau).post(url, course_form()).status_code == 403
    assert not Course.objects.exists() and audits("institutions.course.created") == 0
    response = client_for(staff).post(url, course_form(price_per_lesson="9999.00"))
    assert response.status_code == 200 and "超过政府指导价" in response.content.decode()
    assert not Course.objects.exists()
    response = client_for(staff).post(url, course_form())
    assert response.status_code == 302
    assert Course.objects.get().name == "少儿编程"
    assert AuditLog.objects.get(action="institutions.course.created").actor == staff
