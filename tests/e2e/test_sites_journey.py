"""The bureau (课后服务) records a safety check on a phone, with its PDF, and a community site
whose last check was 13 months old opens again: the site's page says so at once and the
nightly finding resolves at the next run (run in-process before and after)."""

import pytest
from django.utils import timezone

from afterschool import sites
from portal.compliance import run_checks
from portal.models import Finding
from tests.afterschool.test_sites_helpers import bureau_as, site_for
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
RULE = "afterschool.site.safety_check_overdue"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_bureau_records_a_safety_check_and_the_site_reopens(world, live_server, page):
    today = timezone.localdate()
    site = site_for(world.school_a, safety_checked_on=sites.add_months(today, -13))
    bureau_as("as_staff")
    run_checks(for_date=today, rules=[RULE])
    finding = Finding.objects.get(rule=RULE, resolved_at__isnull=True)
    assert site.name in finding.message

    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("as_staff")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.goto(live_server.url + "/sites/")
    row = page.get_by_test_id(f"site-row-{site.pk}")
    assert "不能开放" in row.inner_text()
    row.get_by_role("link", name=site.name).click()
    assert "已超过12个月" in page.get_by_test_id("site-problem").inner_text()

    form = page.get_by_test_id("check-form")
    # refused first: no inspector named; the message names the field
    form.get_by_role("button", name="登记安全检查").click()
    assert "检查人：请填写。" in page.get_by_test_id("error-checked_by").inner_text()
    form = page.get_by_test_id("check-form")
    form.get_by_label("检查人").fill("区安监站 李工")
    form.get_by_label("检查情况").fill("消防通道畅通")
    form.get_by_label("检查材料（PDF/JPG/PNG，可选）").set_input_files(
        files=[{"name": "检查记录.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    form.get_by_role("button", name="登记安全检查").click()
    assert "可以开放" in page.get_by_test_id("site-open").inner_text()
    assert "检查记录.pdf" in page.get_by_test_id("checks").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    run_checks(for_date=today, rules=[RULE])
    finding.refresh_from_db()
    assert finding.resolved_at is not None
