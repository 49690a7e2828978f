"""The admin's writes as production runs them: outside the test transaction (no
ATOMIC_REQUESTS), where ``audit_record`` refuses to run without ``transaction.atomic()``.
The bulk delete action was a 500 there (rows gone, no audit row)."""

import pytest
from django.urls import reverse

from portal.models import AuditLog, District
from tests.factories import DistrictFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_bulk_delete_action_deletes_and_audits(superuser, client_for):
    a, b = DistrictFactory(name="甲区"), DistrictFactory(name="乙区")
    keep = DistrictFactory(name="丙区")
    c = client_for(superuser)
    r = c.post(
        reverse("admin:portal_district_changelist"),
        {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"},
    )
    assert r.status_code == 302
    assert list(District.objects.values_list("pk", flat=True)) == [keep.pk]
    rows = AuditLog.objects.filter(action="portal.district.deleted")
    assert sorted(rows.values_list("object_id", flat=True)) == sorted([str(a.pk), str(b.pk)])
    assert {r.old["name"] for r in rows} == {"甲区", "乙区"}
    assert all(r.actor == superuser for r in rows)


def test_a_failed_audit_keeps_every_row_of_a_bulk_delete(superuser, client_for, monkeypatch):
    from portal import services

    a, b = DistrictFactory(), DistrictFactory()
    calls = []

    def audit_then_fail(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("audit down")
        return original(**kwargs)

    original = services.audit_record
    monkeypatch.setattr(services, "audit_record", audit_then_fail)
    with pytest.raises(RuntimeError):
        client_for(superuser).post(
            reverse("admin:portal_district_changelist"),
            {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"},
        )
    assert District.objects.count() == 2  # all or nothing, with their records
    assert not AuditLog.objects.filter(action="portal.district.deleted").exists()


def test_the_change_and_delete_pages_audit(superuser, client_for):
    d = DistrictFactory(name="甲区", code="110101")
    c = client_for(superuser)
    r = c.post(
        reverse("admin:portal_district_change", args=[d.pk]), {"name": "新甲区", "code": "110101"}
    )
    assert r.status_code == 302
    changed = AuditLog.objects.get(action="portal.district.changed")
    assert changed.old == {"name": "甲区"} and changed.new == {"name": "新甲区"}
    r = c.post(reverse("admin:portal_district_delete", args=[d.pk]), {"post": "yes"})
    assert r.status_code == 302 and not District.objects.exists()
    assert AuditLog.objects.filter(action="portal.district.deleted").count() == 1


def test_a_user_deleted_in_the_admin_leaves_no_password_hash_in_the_audit(superuser, client_for):
    from tests.factories import UserFactory

    u = UserFactory(username="leaver")
    r = client_for(superuser).post(reverse("admin:auth_user_delete", args=[u.pk]), {"post": "yes"})
    assert r.status_code == 302
    row = AuditLog.objects.get(action="auth.user.deleted")
    assert row.old["username"] == "leaver" and "password" not in row.old


def test_the_inbox_marks_read_through_its_service(world, client_for):
    from portal.models import Notice

    Notice.objects.create(user=world.parent_a, key="a", message="通知一")
    r = client_for(world.parent_a).post(reverse("inbox"))
    assert r.status_code == 302
    assert not Notice.objects.filter(read_at__isnull=True).exists()
    assert AuditLog.objects.get(action="portal.notice.read_all").new == {"count": 1}
