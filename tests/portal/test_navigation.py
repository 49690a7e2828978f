"""Issue 14: links by role, refusals on one log line, and the small things a daily user sees
(退课 / 退出登录, findings' text and order, a past lesson's state, the favicon)."""

import datetime as dt
import logging
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from afterschool import enrolment
from afterschool.lesson_views import with_status_labels
from afterschool.models import Lesson
from portal.compliance import run_checks
from portal.dashboard import Bar, Panel, Series
from portal.models import District, Finding, School
from portal.templatetags.nav import may_open, strip_refused_links
from tests.afterschool.fees_helpers import early, paid_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MENU = "/afterschool/menu/"
REVIEW = "/afterschool/review/plans/"


@pytest.fixture
def afterschool_staff(db):
    user = UserFactory(username="as_staff", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


def hrefs(response) -> set[str]:
    return {
        h.split("?")[0] for h in re.findall(r'<a [^>]*href="([^"]+)"', response.content.decode())
    }


# --- links by role ----------------------------------------------------------------------


def test_the_home_cards_after_school_link_leads_each_user_where_they_may_go(
    world, client_for, afterschool_staff
):
    assert MENU in hrefs(client_for(world.parent_a).get("/"))
    assert MENU in hrefs(client_for(None).get("/"))  # to the login, then the menu
    teacher = hrefs(client_for(world.teacher_a).get("/"))
    assert MENU not in teacher and "/afterschool/offerings/" in teacher
    assert REVIEW in hrefs(client_for(afterschool_staff).get("/"))
    homework_staff = hrefs(client_for(world.bureau).get("/"))
    assert MENU not in homework_staff and REVIEW not in homework_staff


def test_a_teacher_is_not_shown_the_fee_desk_nor_the_school_days(world, client_for):
    fees, days = "/afterschool/fees/", "/afterschool/school-days/"
    assert fees not in hrefs(client_for(world.teacher_a).get("/school/"))
    assert fees in hrefs(client_for(world.principal_a).get("/school/"))
    assert days not in hrefs(client_for(world.teacher_a).get("/afterschool/offerings/"))
    assert days in hrefs(client_for(world.principal_a).get("/afterschool/offerings/"))


def test_may_open_asks_the_views_own_permission(world, afterschool_staff):
    assert may_open(world.parent_a, MENU) and not may_open(world.teacher_a, MENU)
    assert may_open(world.principal_a, "/afterschool/fees/")
    assert not may_open(world.teacher_a, "/afterschool/fees/")
    assert may_open(afterschool_staff, REVIEW + "?status=draft")
    assert not may_open(world.bureau, REVIEW + "?status=draft")
    assert may_open(None, MENU)  # a login page, not a refusal
    assert may_open(world.teacher_a, "/")  # no permission in front of it
    assert not may_open(world.teacher_a, "/no/such/page/")


def _panel():
    return Panel(
        title="t",
        series=[
            Series(
                "s", [Bar("a", 1, REVIEW + "?status=draft"), Bar("b", 2, "/dashboard/findings/")]
            )
        ],
    )


def test_dashboard_bars_keep_only_links_the_user_may_follow(world, afterschool_staff):
    mine, theirs = _panel(), _panel()
    strip_refused_links(world.bureau, [mine])
    assert [b.url for b in mine.series[0].bars] == ["", "/dashboard/findings/"]
    assert mine.as_chart()["series"][0]["urls"] == ["", "/dashboard/findings/"]
    strip_refused_links(afterschool_staff, [theirs])
    assert theirs.series[0].bars[0].url == REVIEW + "?status=draft"


def test_the_dashboards_plan_bars_link_to_the_review_only_for_after_school_staff(
    world, client_for, afterschool_staff
):
    paid_course(world.school_a)  # a plan in effect: the plans panel has a bar to link
    assert REVIEW not in client_for(world.bureau).get("/dashboard/").content.decode()
    assert REVIEW in client_for(afterschool_staff).get("/dashboard/").content.decode()


def test_the_dashboard_sends_anonymous_users_to_the_portal_login_and_refuses_a_teacher(
    world, client_for
):
    anonymous = client_for(None).get("/dashboard/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/?next=")
    teacher = client_for(world.teacher_a).get("/dashboard/")
    assert teacher.status_code == 403
    assert "无权访问" in teacher.content.decode()  # the portal's 403 page, not the admin's


# --- a refusal is one log line ----------------------------------------------------------


def test_a_refusal_is_logged_on_one_line_without_its_traceback(world, client_for, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client_for(world.teacher_a).get("/dashboard/").status_code == 403
        assert client_for(world.teacher_a).get("/school/classes/999999/").status_code == 404
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.status_code for r in records] == [403, 404]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)


def test_an_error_keeps_its_traceback(caplog):
    logger = logging.getLogger("django.request")
    with caplog.at_level(logging.ERROR, logger="django.request"):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.error("Internal Server Error: /x/", exc_info=True)
    assert caplog.records[-1].exc_info is not None


# --- wording ----------------------------------------------------------------------------


def test_withdrawing_says_tuike_and_logging_out_says_tuichu_denglu(world, client_for):
    course = paid_course(world.school_a, weeks=(1, 2))  # not started: withdrawal is offered
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    html = client_for(world.parent_a).get(MENU).content.decode()
    withdraw = re.search(r'data-testid="withdraw">([^<]+)<', html)
    assert withdraw and withdraw.group(1) == "退课"
    logout = re.search(r'data-testid="logout">([^<]+)<', html)
    assert logout and logout.group(1) == "退出登录"


# --- findings ---------------------------------------------------------------------------


def test_a_findings_text_names_the_school_once():
    district = District.objects.create(code="440199", name="示范区")
    School.objects.create(code="4401990003", name="示范区明德学校", district=district,
                          stage=School.Stage.NINE_YEAR)  # fmt: skip
    run_checks(for_date=dt.date(2026, 3, 2), rules=["portal.school.no_principal"])
    message = Finding.objects.get(rule="portal.school.no_principal").message
    assert message.startswith("示范区明德学校没有启用的校长账号")
    assert "示范区示范区" not in message


def _findings(school):
    """Four open findings of one school: two days, each with a warning and a serious one,
    created in an order that is none of the orders asked for."""
    rows = [
        ("a", "warning", dt.date(2026, 3, 1)),
        ("b", "serious", dt.date(2026, 3, 1)),
        ("c", "warning", dt.date(2026, 3, 5)),
        ("d", "serious", dt.date(2026, 3, 5)),
        ("e", "info", dt.date(2026, 3, 5)),
    ]
    for key, severity, first_seen in rows:
        Finding.objects.create(
            rule="portal.test.rule", subject_key=f"key:{key}", severity=severity,
            message=f"发现{key}", school=school, first_seen=first_seen,
            last_seen=dt.date(2026, 3, 6),
        )  # fmt: skip
    return ["发现d", "发现c", "发现e", "发现b", "发现a"]


def _order(html, expected):
    return sorted(expected, key=html.index)


def test_a_schools_findings_read_newest_first_then_most_severe(world, client_for):
    expected = _findings(world.school_a)
    html = client_for(world.teacher_a).get(reverse("portal:school_findings")).content.decode()
    assert _order(html, expected) == expected


def test_the_dashboards_findings_read_newest_first_then_most_severe(world, client_for):
    expected = _findings(world.school_a)
    html = client_for(world.bureau).get(reverse("dashboard:findings")).content.decode()
    assert _order(html, expected) == expected


# --- a past lesson ----------------------------------------------------------------------


def test_a_lesson_of_two_days_ago_never_called_reads_ended_not_scheduled(world, client_for):
    course = paid_course(world.school_a, weeks=(0,))
    day = timezone.localdate() - dt.timedelta(days=2)
    past = Lesson.objects.create(offering=course, planned_date=day, date=day,
                                 start=course.start, end=course.end)  # fmt: skip
    html = client_for(world.teacher_a).get(reverse("afterschool:lessons")).content.decode()
    line = next(li for li in html.split("<li>") if f"/afterschool/lessons/{past.pk}/" in li)
    assert "已结束，未点名" in line and "待上课" not in line


def test_a_lessons_state_at_its_boundaries(world):
    course = paid_course(world.school_a, weeks=(0,))
    lesson = course.lessons.get()
    start = timezone.make_aware(dt.datetime.combine(lesson.date, lesson.start))
    end = timezone.make_aware(dt.datetime.combine(lesson.date, lesson.end))
    label = lambda now: with_status_labels([lesson], now=now)[0].status_label  # noqa: E731
    assert label(start - dt.timedelta(minutes=1)) == "待上课"
    assert label(start) == "上课中"
    assert label(end - dt.timedelta(seconds=1)) == "上课中"
    assert label(end) == "已结束，未点名"
    lesson.status = Lesson.Status.HELD
    assert label(end + dt.timedelta(days=2)) == "已上课"


# --- favicon ----------------------------------------------------------------------------


def test_the_favicon_is_served_at_the_root_and_linked_from_every_page(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    html = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/portal/favicon\.svg"', html)
    assert client.get("/static/portal/favicon.svg").status_code == 200
