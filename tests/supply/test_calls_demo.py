"""The call's demo: made through the services, once."""

import pytest

from supply import call_demo
from supply.call_models import Call, CallApplication
from tests.supply import call_helpers
from tests.supply.call_helpers import bureau_officer

pytestmark = pytest.mark.django_db

fast_passwords = call_helpers.fast_passwords


def test_the_demo_is_built_once():
    bureau = bureau_officer()
    lines = call_demo.build(bureau)
    assert any("zhuanjia_zhou" in line for line in lines)
    published = Call.objects.get(title=call_demo.PUBLISHED_TITLE)
    assert published.status == "published"
    admitted = CallApplication.objects.filter(call=published, status="admitted")
    assert admitted.count() == 2
    assert all(a.organisation.provider.status == "admitted" for a in admitted)
    assert call_demo.build(bureau) == []
    assert Call.objects.count() == 2
