"""The bureau's provider admin writes through afterschool.providers (outside the test
transaction, as the admin runs in production): a new provider is an application with its
code checked, a change and each contract row are audited, a bad code is refused with a
Chinese message and writes nothing."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from afterschool.models import Provider, ProviderContract
from portal.models import AuditLog
from tests.factories import UserFactory
from tests.institutions.helpers import credit_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff():
    user = UserFactory(username="kehou_admin", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


def _form(code, **extra):
    data = {
        "name": "星火体育俱乐部",
        "credit_code": code,
        "vetting_note": "",
        "contracts-TOTAL_FORMS": "0",
        "contracts-INITIAL_FORMS": "0",
        "reviews-TOTAL_FORMS": "0",
        "reviews-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_a_provider_added_in_the_admin_applies_and_its_contract_is_audited(staff, client_for):
    contract = {
        "contracts-TOTAL_FORMS": "1",
        "contracts-0-items": "篮球",
        "contracts-0-price_per_lesson": "40",
        "contracts-0-outside_price": "80",
        "contracts-0-start": "2026-09-01",
        "contracts-0-end": "2027-07-15",
    }
    r = client_for(staff).post(
        reverse("admin:afterschool_provider_add"), _form(credit_code(), **contract)
    )
    assert r.status_code == 302
    provider = Provider.objects.get()
    assert provider.status == Provider.Status.APPLIED
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"afterschool.provider.applied", "afterschool.providercontract.created"} <= actions
    assert ProviderContract.objects.filter(provider=provider).count() == 1


def test_a_change_in_the_admin_is_audited_and_a_bad_code_writes_nothing(staff, client_for):
    c = client_for(staff)
    c.post(reverse("admin:afterschool_provider_add"), _form(credit_code()))
    provider = Provider.objects.get()
    url = reverse("admin:afterschool_provider_change", args=[provider.pk])
    r = c.post(url, _form(provider.credit_code, name="星火体育", licence_checked="on"))
    assert r.status_code == 302
    log = AuditLog.objects.get(action="afterschool.provider.changed")
    assert log.old["name"] == "星火体育俱乐部" and log.new["licence_checked"] is True
    r = c.post(url, _form("123"))
    assert r.status_code == 200 and "统一社会信用代码应为18位" in r.content.decode()
    assert Provider.objects.get().credit_code == provider.credit_code
    r = c.post(url, _form(provider.credit_code, staff_vetted="on"))
    assert r.status_code == 200 and "请填写人员审查记录" in r.content.decode()
    assert not Provider.objects.get().staff_vetted
