"""Holiday care's GET pages: who sees them, who is refused, what they show."""

import pytest
from django.urls import reverse

from afterschool import holiday
from afterschool.models import SchoolPlan
from tests.afterschool.test_holiday_helpers import bureau_as, open_host, summer, vacation_plan
from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db


def test_a_parent_sees_the_weeks_of_a_host_serving_the_childs_school(world, client_for):
    _host, (block, _) = open_host(world, capacity=2)
    holiday.enrol_week(user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk)
    page = client_for(world.parent_a).get(reverse("holiday:weeks"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "乙小学 · 2027暑假" in html and "剩余 1/2 个名额" in html and "已报名" in html
    assert "看护（看护）" in html and "学科辅导" not in html
    stranger = ParentFactory(user__username="holiday_stranger").user
    html = client_for(stranger).get(reverse("holiday:weeks")).content.decode()
    assert "乙小学" not in html


def test_an_unserved_school_sees_no_host(world, client_for):
    open_host(world, served=[world.school_b.pk])
    html = client_for(world.parent_a).get(reverse("holiday:weeks")).content.decode()
    assert "孩子所在学校暂无开放的假期托管点。" in html


@pytest.mark.parametrize("name", ["hosts", "host", "host_new"])
def test_bureau_pages_refuse_everyone_else(world, client_for, name):
    host, _blocks = open_host(world)
    url = reverse(f"holiday:{name}", args=[host.pk] if name == "host" else [])
    assert client_for(bureau_as("holiday_reader")).get(url).status_code == 200
    for user in [world.principal_a, world.teacher_a, world.parent_a, world.bureau]:
        assert client_for(user).get(url).status_code == 403, user
    assert client_for(None).get(url).status_code == 302


def test_the_places_table(world, client_for):
    host, (block, _) = open_host(world, capacity=1)
    holiday.enrol_week(user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk)
    html = client_for(bureau_as()).get(reverse("holiday:hosts")).content.decode()
    assert "共提供 2 个名额，已报名 1 人，候补 0 人。" in html
    page = client_for(bureau_as("holiday_other")).get(
        reverse("holiday:hosts"), {"vacation": "nonsense"}
    )
    assert page.status_code == 400


def test_a_parent_cannot_withdraw_a_term_course_here(world, client_for):
    from afterschool import enrolment
    from tests.afterschool.fees_helpers import early, paid_course

    course = paid_course(world.school_a, fee="0", capacity=5)
    e = enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    page = client_for(world.parent_a).post(reverse("holiday:withdraw", args=[e.pk]))
    assert page.status_code == 403


def test_the_plan_page_of_a_vacation(world, client_for):
    plan = vacation_plan(world.school_a, summer(world.school_a.district), SchoolPlan.Status.DRAFT)
    html = (
        client_for(world.principal_a)
        .get(reverse("afterschool:plan_edit", args=[plan.pk]))
        .content.decode()
    )
    assert "假期托管：工作日开展，上午至少08:30至11:30" in html
    assert "添加服务项目" in html and "阅读 · 阅读" in html


def test_the_admin_opens_a_host_through_the_service(world, client_for, superuser):
    from afterschool.holiday_models import HostSite
    from portal.models import AuditLog
    from tests.afterschool.test_holiday_helpers import designate

    vacation_plan(world.school_b, summer(world.school_a.district))
    host = designate(world, bureau_as())
    admin = client_for(superuser)
    url = reverse("admin:afterschool_hostsite_changelist")
    assert admin.get(url).status_code == 200
    admin.post(url, {"action": "open_hosts", "_selected_action": [host.pk]})
    host.refresh_from_db()
    assert host.status == HostSite.Status.OPEN and host.blocks.count() == 2
    assert AuditLog.objects.filter(action="afterschool.holiday.opened").count() == 1
