import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from cases.models import Case
from portal.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BODY = "我校推行分层作业设计，" * 30


@pytest.fixture
def editor(db):
    user = UserFactory(username="editor", is_staff=True)
    user.groups.add(Group.objects.get(name="案例库"))
    return user


def _submit(client, **overrides):
    data = {"title": "分层作业的实践", "themes": ["作业管理"], "body": BODY, **overrides}
    return client.post(reverse("cases:submit"), data)


def test_a_school_submits_a_case(world, client_for):
    response = _submit(client_for(world.principal_a))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.school == world.school_a and case.status == Case.Status.SUBMITTED
    assert case.unit == "甲小学"
    assert AuditLog.objects.filter(action="cases.case.submitted", object_id=str(case.pk)).exists()


def test_a_rejected_submission_names_the_field_and_keeps_the_text(world, client_for):
    response = _submit(client_for(world.teacher_a), body="太短了", themes=[])
    html = response.content.decode()
    assert response.status_code == 200
    assert "正文太短" in html and "请至少选择一个主题" in html
    assert "分层作业的实践" in html and "太短了" in html
    assert not Case.objects.exists()


def test_more_than_four_themes_are_refused(world, client_for):
    themes = ["作业管理", "课后服务", "科学教育", "劳动教育", "体育美育"]
    html = _submit(client_for(world.principal_a), themes=themes).content.decode()
    assert "主题最多选4个" in html


def test_the_review_cycle_return_resubmit_select_publish(world, client_for, editor):
    _submit(client_for(world.principal_a))
    case = Case.objects.get()
    reviewer = client_for(editor)
    url = reverse("cases:review", args=[case.pk])
    # returning needs a comment
    html = reviewer.post(url, {"to": "returned", "comment": ""}).content.decode()
    assert "退回时请填写审核意见" in html
    reviewer.post(url, {"to": "returned", "comment": "请补充成效数据"})
    case.refresh_from_db()
    assert case.status == Case.Status.RETURNED

    school = client_for(world.principal_a)
    assert "请补充成效数据" in school.get(reverse("cases:mine")).content.decode()
    edit = reverse("cases:edit", args=[case.pk])
    school.post(edit, {"title": "分层作业的实践（修订）", "themes": ["作业管理"], "body": BODY})
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED and case.title.endswith("（修订）")

    reviewer = client_for(editor)
    # publishing straight from submitted skips 遴选: refused
    html = reviewer.post(url, {"to": "published"}).content.decode()
    assert "不能改为" in html
    reviewer.post(url, {"to": "selected"})
    reviewer.post(url, {"to": "published"})
    case.refresh_from_db()
    assert case.status == Case.Status.PUBLISHED and case.published_on is not None
    actions = list(
        AuditLog.objects.filter(object_id=str(case.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "cases.case.submitted",
        "cases.case.returned",
        "cases.case.resubmitted",
        "cases.case.selected",
        "cases.case.published",
    ]
    # and now the public sees it, found by search
    public = client_for(None).get(reverse("cases:list"), {"q": "分层作业"}).content.decode()
    assert "分层作业的实践（修订）" in public


def test_unpublished_cases_are_not_public(world, client_for):
    _submit(client_for(world.principal_a))
    case = Case.objects.get()
    anonymous = client_for(None)
    assert anonymous.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert "分层作业的实践" not in anonymous.get(reverse("cases:list")).content.decode()


def test_a_school_sees_only_its_own_cases(world, client_for):
    _submit(client_for(world.principal_b), title="乙校的案例")
    case = Case.objects.get()
    case.status = Case.Status.RETURNED
    case.save()
    a = client_for(world.principal_a)
    assert "乙校的案例" not in a.get(reverse("cases:mine")).content.decode()
    assert a.get(reverse("cases:edit", args=[case.pk])).status_code == 404


def test_school_pages_refuse_parents_bureau_and_anonymous(world, client_for):
    for name in ("cases:mine", "cases:submit"):
        url = reverse(name)
        assert client_for(world.parent_a).get(url).status_code == 403
        assert client_for(world.bureau).get(url).status_code == 403
        assert client_for(None).get(url).status_code == 302


def test_review_refuses_schools_parents_and_other_bureau_staff(world, client_for):
    _submit(client_for(world.principal_a))
    case = Case.objects.get()
    for url in (reverse("cases:review_list"), reverse("cases:review", args=[case.pk])):
        for user in (world.principal_a, world.parent_a, world.bureau):
            assert client_for(user).get(url).status_code == 403
        assert client_for(None).get(url).status_code == 302
    assert (
        client_for(world.bureau)
        .post(reverse("cases:review", args=[case.pk]), {"to": "selected"})
        .status_code
        == 403
    )
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED


def test_list_pages_run_a_fixed_number_of_queries(
    world, client_for, editor, django_assert_num_queries
):
    c = client_for(world.principal_a)
    for i in range(8):
        _submit(c, title=f"案例{i}")
    c.get(reverse("cases:mine"))
    with django_assert_num_queries(4):  # session, user, school_staff, cases
        c.get(reverse("cases:mine"))
    r = client_for(editor)
    r.get(reverse("cases:review_list"))
    with django_assert_num_queries(5):  # session, user, permissions (2), cases
        r.get(reverse("cases:review_list"))
