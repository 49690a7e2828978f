"""The sites part's pages: who may open them, another site's anything is a 404, phones
masked, a pupil shown by name, school and grade only, the one-time password shown once,
the register's query count independent of the number of sites, the nightly check and the
dashboard panel."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from afterschool import enrolment, sites
from afterschool.models import Lesson
from portal import compliance
from portal.models import Finding
from tests.afterschool.test_sites_helpers import (
    bureau_as,
    course_fields,
    operator_of,
    plan_in_effect,
    site_for,
)

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _open_course(w, site):
    plan_in_effect(w.school_a)
    op = operator_of(site)
    course = sites.course_create(
        actor=op, **course_fields(starts_on=timezone.localdate() + dt.timedelta(days=1))
    )
    sites.course_publish(actor=op, offering_id=course.pk)
    enrolment.enrol(user=w.parent_a, child_id=w.child_a.pk, offering_id=course.pk)
    return op, course


def test_the_register_is_the_bureaus_of_the_afterschool_line(world, client_for):
    site = site_for(world.school_a)
    url = reverse("sites:index")
    assert client_for(bureau_as()).get(url).status_code == 200
    for user in (world.bureau, world.principal_a, world.parent_a, operator_of(site)):
        assert client_for(user).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


def test_the_registers_queries_do_not_grow_with_its_sites(world, client_for):
    client = client_for(bureau_as())
    site_for(world.school_a)
    client.get(reverse("sites:index"))  # the session's first reads
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sites:index"))
    for _ in range(5):
        site_for(world.school_b)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("sites:index"))
    assert response.content.decode().count('data-testid="site-row-') == 6
    assert len(many) == len(few)


def test_a_sites_page_masks_its_phone_and_shows_its_use(world, client_for):
    site = site_for(world.school_a, contact_phone="13812349876")
    _open_course(world, site)
    html = client_for(bureau_as()).get(reverse("sites:detail", args=[site.pk])).content.decode()
    assert "138****9876" in html and "13812349876" not in html
    assert "社区阅读" in html and "已报名 1" in html


def test_the_one_time_password_is_shown_once(world, client_for):
    site = site_for(world.school_a)
    client = client_for(bureau_as())
    response = client.post(
        reverse("sites:operator_new", args=[site.pk]), {"username": "op_once", "name": "李社工"}
    )
    assert response["Cache-Control"] == "no-store"
    assert 'data-testid="password"' in response.content.decode()
    again = client.get(reverse("sites:detail", args=[site.pk])).content.decode()
    assert 'data-testid="password"' not in again and "op_once" in again


def test_an_operator_sees_its_own_site_and_another_sites_course_is_a_404(world, client_for):
    site = site_for(world.school_a)
    op, course = _open_course(world, site)
    lesson = Lesson.objects.filter(offering=course).first()
    other = operator_of(site_for(world.school_a), "other_op")
    client = client_for(op)
    assert site.name in client.get(reverse("sites:mine")).content.decode()
    page = client.get(reverse("sites:course", args=[course.pk])).content.decode()
    assert "甲同学" in page and "甲小学" in page and "3年级" in page
    assert "13812345678" not in page and "甲家长" not in page  # no parent, no phone
    assert client.get(reverse("sites:roll", args=[lesson.pk])).status_code == 200
    client = client_for(other)
    assert client.get(reverse("sites:course", args=[course.pk])).status_code == 404
    assert client.get(reverse("sites:roll", args=[lesson.pk])).status_code == 404
    assert client.post(reverse("sites:course_publish", args=[course.pk])).status_code == 404
    assert client_for(bureau_as()).get(reverse("sites:mine")).status_code == 403
    assert client_for(world.principal_a).get(reverse("sites:mine")).status_code == 403


def test_a_checks_file_is_the_bureaus_only(world, client_for):
    site = site_for(world.school_a)
    staff = bureau_as()
    row = sites.safety_check_record(
        actor=staff, site_id=site.pk, checked_on=timezone.localdate(),
        checked_by="安监员", files=[SimpleUploadedFile("检查.pdf", PDF)],
    )  # fmt: skip
    url = reverse("sites:check_file", args=[row.pk])
    response = client_for(staff).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    for user in (world.principal_a, operator_of(site), world.parent_a):
        assert client_for(user).get(url).status_code == 403


def test_the_nightly_check_finds_an_old_check_and_resolves_when_a_new_one_is_recorded(world):
    today = timezone.localdate()
    site = site_for(world.school_a, safety_checked_on=today - dt.timedelta(days=400))
    site_for(world.school_a)  # checked today: fine
    rule = ["afterschool.site.safety_check_overdue"]
    compliance.run_checks(for_date=today, rules=rule)
    found = Finding.objects.get(rule=rule[0])
    assert found.is_open and site.name in found.message
    assert found.school_id == world.school_a.pk
    sites.safety_check_record(
        actor=bureau_as(), site_id=site.pk, checked_on=today, checked_by="安监员"
    )
    compliance.run_checks(for_date=today, rules=rule)
    found.refresh_from_db()
    assert not found.is_open


def test_the_dashboard_panel_counts_places_and_shut_sites_in_one_query(world):
    from afterschool.sites_dashboard import use
    from portal.dashboard import Filters

    site = site_for(world.school_a)
    _open_course(world, site)
    site_for(world.school_a, safety_checked_on=None)
    today = timezone.localdate()
    f = Filters(district=world.school_a.district, month=f"{today:%Y-%m}")
    with CaptureQueriesContext(connection) as queries:
        panel = use(f)
    assert len(queries) == 1
    figures = dict(panel.figures)
    assert figures["托管点"] == "2" and figures["暂停开放（安全检查过期或停用）"] == "1"
    assert [b.value for b in panel.series[0].bars if b.label == site.name] == [10]
    assert [b.value for b in panel.series[1].bars if b.label == site.name] == [1]


def test_the_demo_is_built_through_the_services_once(world):
    from afterschool import sites_demo
    from afterschool.models import CareSite, Offering

    plan_in_effect(world.school_a, weekdays=(0, 1, 2, 3, 4))
    staff = bureau_as()
    lines = sites_demo.build(actor=staff, school=world.school_a)
    assert any("初始密码" in line for line in lines) and len(lines) == 3
    assert sites_demo.build(actor=staff, school=world.school_a) == []
    shut = CareSite.objects.get(name=sites_demo.SHUT_SITE)
    assert sites.open_problem(shut) is not None
    course = Offering.objects.get(name="社区绘本阅读")
    assert course.status == "published" and course.fee_per_lesson == 0


def test_the_admins_action_deactivates_through_the_service(world, client_for, superuser):
    from afterschool.models import SiteOperator
    from portal.models import AuditLog

    site = site_for(world.school_a)
    operator_of(site)
    op = SiteOperator.objects.get(site=site)
    client = client_for(superuser)
    url = reverse("admin:afterschool_siteoperator_changelist")
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "deactivate", "_selected_action": [op.pk]})
    assert response.status_code == 302
    op.refresh_from_db()
    assert not op.active
    assert AuditLog.objects.filter(action="afterschool.site.operator_deactivated").count() == 1
    assert (
        client.get(reverse("admin:afterschool_caresite_change", args=[site.pk])).status_code == 200
    )


def test_the_forms_render_for_their_users(world, client_for):
    plan_in_effect(world.school_a)
    site = site_for(world.school_a)
    client = client_for(bureau_as())
    assert client.get(reverse("sites:new")).status_code == 200
    edit = client.get(reverse("sites:edit", args=[site.pk])).content.decode()
    assert site.name in edit and 'value="13800001111"' in edit  # the form keeps it to edit
    page = client_for(operator_of(site)).get(reverse("sites:course_new")).content.decode()
    assert "社区课堂为公益课程" in page and "面向年级" in page
