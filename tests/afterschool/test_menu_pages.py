import pytest
from django.urls import reverse

from afterschool.models import Enrolment
from tests.afterschool.helpers import family, offering

pytestmark = pytest.mark.django_db


def test_the_menu_says_why_a_child_cannot_enrol_and_lets_them_join(world, client_for):
    ok = offering(world.school_a, name="趣味编程")
    offering(world.school_a, name="高年级篮球", grades=(5, 6), weekday=2, plan=ok.plan)
    c = client_for(world.parent_a)
    html = c.get(reverse("afterschool:menu")).content.decode()
    assert "趣味编程" in html and "面向5年级、6年级" in html
    assert "乙校" not in html
    c.post(reverse("afterschool:enrol"), {"child": world.child_a.pk, "offering": ok.pk})
    assert Enrolment.objects.get(child=world.child_a).status == "enrolled"


def test_a_full_course_lands_the_next_parent_on_the_waiting_list(world, client_for):
    course = offering(world.school_a, capacity=1)
    (u1, c1), (u2, c2) = family(world.class_a, 2)
    client_for(u1).post(reverse("afterschool:enrol"), {"child": c1.pk, "offering": course.pk})
    page = client_for(u2).post(
        reverse("afterschool:enrol"), {"child": c2.pk, "offering": course.pk}, follow=True
    )
    assert "已进入候补，第 1 位；候补不收费" in page.content.decode()


def test_menu_pages_refuse_school_staff_and_anonymous(world, client_for):
    for name in ("afterschool:menu",):
        assert client_for(world.principal_a).get(reverse(name)).status_code == 403
        assert client_for(None).get(reverse(name)).status_code == 302
    assert client_for(world.parent_a).get(reverse("afterschool:offerings")).status_code == 403
    course = offering(world.school_a)
    e = Enrolment.objects.create(
        offering=course, child=world.child_a, status="enrolled", by=world.parent_a
    )
    from tests.factories import ParentFactory

    stranger = ParentFactory(user__username="stranger").user
    assert (
        client_for(stranger).post(reverse("afterschool:withdraw", args=[e.pk])).status_code == 404
    )


def test_school_staff_create_and_publish_a_course(world, client_for):
    from tests.afterschool.helpers import live_plan

    plan = live_plan(world.school_a)
    teacher = world.teacher_a.school_staff
    c = client_for(world.principal_a)
    response = c.post(
        reverse("afterschool:offerings"),
        {
            "plan": plan.pk,
            "name": "书法社",
            "kind": "enrichment",
            "teacher": teacher.pk,
            "grades": [3, 4],
            "capacity": 30,
            "weekday": 1,
            "start": "15:30",
            "end": "16:30",
            "fee_per_lesson": "0",
        },
    )
    assert response.status_code == 302
    from afterschool.models import Offering

    offering_ = Offering.objects.get(name="书法社")
    page = c.post(reverse("afterschool:offering_publish", args=[offering_.pk]), follow=True)
    assert "请为课程安排教室或场地" in page.content.decode()  # no room yet
    from tests.afterschool.helpers import room

    Offering.objects.filter(pk=offering_.pk).update(room=room(world.school_a, capacity=30))
    c.post(reverse("afterschool:offering_publish", args=[offering_.pk]))
    assert Offering.objects.get(pk=offering_.pk).status == "published"
    bad = c.post(
        reverse("afterschool:offerings"), {"name": "无名", "start": "17:00", "end": "16:00"}
    ).content.decode()
    assert "结束时间应晚于开始时间" in bad and "请选择面向的年级" in bad
    assert (
        client_for(world.principal_b)
        .post(reverse("afterschool:offering_publish", args=[offering_.pk]))
        .status_code
        == 404
    )
