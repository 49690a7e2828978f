"""阳光分班 in a browser (issue 18): the principal creates the draw and enters the list (a bad
row named first), the bureau's 基础教育 staff publish the commitment, the time comes, the
principal runs the draw, and a parent on a 390-px phone reads the public page: masked names,
the seed, whose SHA-256 is the commitment published before; the verification script, run on
the JSON the page links, prints the same seed and agrees."""

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from governance.draw_models import Draw
from tests.e2e.pages import html
from tests.factories import PASSWORD
from tests.governance.draw_helpers import due, pupils_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_draw.py"


def login(page, base, username):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def logout(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()


def _local(minutes):
    when = timezone.localtime(timezone.now() + dt.timedelta(minutes=minutes))
    return when.strftime("%Y-%m-%dT%H:%M")


def test_the_bureau_publishes_the_school_draws_and_anyone_verifies(world, live_server, page,
                                                                  tmp_path):  # fmt: skip
    base = live_server.url
    # 1. the principal creates the draw and enters the list
    login(page, base, "pa")
    page.goto(base + "/draw/staff/new/")
    page.get_by_label("年级").select_option(label="一年级（小学新生）")
    page.get_by_label("入学年份").fill("2026")
    page.get_by_label("班级数").fill("3")
    page.get_by_label("计划抽签时间").fill(_local(120))
    page.get_by_role("button", name="新建").click()
    assert page.get_by_role("heading", name="录入名单").is_visible()
    lines = pupils_text(30).splitlines()
    bad = lines.copy()
    bad[4] = bad[4].split(",")[0] + ",未知"
    page.get_by_label("学生名单（每行一名：姓名,性别[,分层]）").fill("\n".join(bad))
    page.get_by_label("参与抽签的班主任（每行一名，人数等于班级数；不抽班主任可不填）").fill(
        "李老师\n王老师\n张老师"
    )
    page.get_by_role("button", name="保存名单").click()
    assert "第5行：性别“未知”无法识别" in page.get_by_test_id("error-pupils").inner_text()
    page.get_by_label("学生名单（每行一名：姓名,性别[,分层]）").fill("\n".join(lines))
    page.get_by_role("button", name="保存名单").click()
    assert page.get_by_test_id("status").inner_text() == "录入名单"
    draw = Draw.objects.get()
    assert draw.pupils.count() == 30
    logout(page)

    # 2. the bureau publishes the commitment
    login(page, base, "bureau")
    page.goto(f"{base}/draw/staff/{draw.pk}/")
    page.get_by_label("抽签时间").fill(_local(60))
    page.get_by_role("button", name="公布承诺").click()
    assert page.get_by_test_id("status").inner_text() == "已公布承诺，待抽签"
    seed_sha = page.get_by_test_id("seed-sha256").inner_text()
    logout(page)

    # before the draw the public sees the commitment, not the seed
    page.goto(f"{base}/draw/{draw.pk}/")
    assert page.get_by_test_id("seed").inner_text() == "抽签时公开"
    assert page.get_by_test_id("seed-sha256").inner_text() == seed_sha

    # 3. the time comes; the principal runs the draw, once
    due(Draw.objects.get(pk=draw.pk))
    login(page, base, "pa")
    page.goto(f"{base}/draw/staff/{draw.pk}/")
    page.get_by_role("button", name="开始抽签").click()
    assert page.get_by_test_id("status").inner_text() == "已抽签"
    assert page.get_by_role("button", name="开始抽签").count() == 0
    logout(page)

    # 4. a parent's phone: masked names, the seed, the classes
    page.goto(f"{base}/draw/")
    page.get_by_role("link", name=str(draw)).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    seed = page.get_by_test_id("seed").inner_text()
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() == seed_sha
    content = html(page)
    assert not any(line.split(",")[0] in content for line in lines)
    assert page.get_by_test_id("class-3").is_visible()

    # 5. the JSON the page links, checked by the script: the same seed, the same classes
    with page.expect_download() as info:
        page.get_by_test_id("json-link").click()
    path = tmp_path / "draw.json"
    info.value.save_as(path)
    done = subprocess.run([sys.executable, "-I", str(SCRIPT), str(path)], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout
    assert f"种子: {seed}" in done.stdout and "核验通过" in done.stdout
    for c in Draw.objects.get(pk=draw.pk).result["classes"]:
        assert f"{c['class']}班  班主任 {c['teacher']}" in done.stdout
