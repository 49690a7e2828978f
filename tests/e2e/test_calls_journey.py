"""The public call, end to end (issue 19 part 1): a provider applies on the public page with
its documents on a 390-px phone; after the deadline three experts score it (each sees only
their own scores until the last one is in); the bureau admits the top one and the public
result page shows it with its scores, and the provider is on the whitelist."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from afterschool.models import Provider
from supply.call_models import Call
from tests.e2e.pages import html
from tests.factories import PASSWORD
from tests.supply.call_helpers import bureau_officer, member, open_call, panel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n% a licence\n"


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    cache.clear()
    settings.MEDIA_ROOT = tmp_path / "media"


def login(page, base, username, password=PASSWORD):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def logout(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()


def test_apply_score_admit_and_the_public_result(world, live_server, page):
    base = live_server.url
    bureau = bureau_officer("calls_bureau_e2e")
    call = open_call(bureau, admit_count=1, title="2027年体育类课后服务机构征集")
    m = member("yangguang_admin", organisation__name="阳光体育俱乐部")
    experts = panel(bureau, call, 3)

    # 1. the provider applies on the call's public page, from its phone
    login(page, base, m.user.username)
    page.goto(f"{base}/calls/{call.pk}/")
    assert "课程方案" in html(page)
    page.get_by_test_id("apply-link").click()
    page.get_by_label("拟提供的服务项目").fill("篮球、足球、田径")
    page.get_by_label("课程方案概述").fill("每周两次，每次一课时")
    page.get_by_label("报价（元/课时）").fill("40")
    page.get_by_label("校外同类课时价（元/课时）").fill("90")
    page.get_by_label("申报材料（PDF/JPG/PNG，可多选）").set_input_files(
        [{"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_test_id("apply-submit").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "评审中"
    assert "营业执照.pdf" in html(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    logout(page)

    # the deadline passes (the test's clock)
    Call.objects.filter(pk=call.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))

    # 2. three experts score; only the last one sees the panel's scores
    for i, (e, values) in enumerate(zip(experts, ([18, 27, 22, 13, 9], [16, 25, 20, 12, 8],
                                                  [17, 26, 21, 14, 10]), strict=True)):  # fmt: skip
        login(page, base, e.user.username)
        page.goto(f"{base}/calls/expert/")
        page.get_by_role("link", name="阳光体育俱乐部").click()
        for (name, weight), v in zip(
            [("资质", 20), ("课程方案", 30), ("师资", 25), ("价格", 15), ("安全", 10)],
            values,
            strict=True,
        ):
            page.get_by_label(f"{name}（0–{weight}分）").fill(str(v))
        page.get_by_test_id("score-submit").click()
        page.wait_for_load_state()
        if i < 2:
            assert page.get_by_test_id("panel-hidden").is_visible()
        else:
            assert "86.00" in page.get_by_test_id("panel-scores").inner_text()
        logout(page)

    # 3. the bureau admits and publishes
    login(page, base, bureau.username)
    page.goto(f"{base}/calls/bureau/{call.pk}/")
    assert "86.00" in page.get_by_test_id("ranking").inner_text()
    page.get_by_label("人员审查记录（记入机构名单）").fill("已查无犯罪记录（2027-06-01）")
    page.get_by_test_id("admit-submit").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/calls/{call.pk}/result/")
    logout(page)

    # 4. the public result page, without an account: the admitted and the scores
    page.goto(f"{base}/calls/{call.pk}/result/")
    result = page.get_by_test_id("result").inner_text()
    assert "阳光体育俱乐部" in result and "86.00" in result and "26.00" in result
    for e in experts:
        assert e.name not in html(page)
    m.organisation.refresh_from_db()
    assert m.organisation.provider.status == Provider.Status.ADMITTED
