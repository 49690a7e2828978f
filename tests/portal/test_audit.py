import pytest
from django.db import transaction
from django.urls import reverse

from portal.audit import audit_record
from portal.models import AuditLog, School

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_an_audit_row_outside_a_transaction_is_refused(world):
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        audit_record(actor=world.bureau, action="portal.school.changed", obj=world.school_a)


def test_an_audit_row_rolls_back_with_its_change(world):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        world.school_a.name = "改名小学"
        world.school_a.save(update_fields=["name"])
        audit_record(
            actor=world.bureau,
            action="portal.school.renamed",
            obj=world.school_a,
            old={"name": "甲小学"},
            new={"name": "改名小学"},
        )
        raise Boom
    assert not AuditLog.objects.filter(action="portal.school.renamed").exists()
    assert School.objects.get(pk=world.school_a.pk).name == "甲小学"


def test_a_change_in_the_admin_is_audited(world, client, superuser):
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("admin:portal_school_change", args=[world.school_a.pk])
    response = client.post(
        url,
        {
            "code": world.school_a.code,
            "name": "甲实验小学",
            "stage": world.school_a.stage,
            "district": world.school_a.district_id,
        },
    )
    assert response.status_code == 302
    row = AuditLog.objects.get(action="portal.school.changed")
    assert row.actor == superuser
    assert row.old == {"name": "甲小学"} and row.new == {"name": "甲实验小学"}
    assert row.object_id == str(world.school_a.pk)


def test_the_audit_log_is_read_only_in_the_admin(superuser, client):
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("admin:portal_auditlog_changelist")).status_code == 200
    assert client.get(reverse("admin:portal_auditlog_add")).status_code == 403
