"""Privacy (issue 21, item 7): a survey page answers only parents of its class (anyone else a
404); the admin shows parents' phone numbers masked, in the list, the change page and the
audit log, and the full number only by an audited "show" to staff holding
portal.view_parent_phone. POSTs run outside the test transaction, as production runs them."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from homework.models import Survey, SurveyAnswer, SurveyBallot
from portal.models import AuditLog, Parent, SchoolStaff
from tests.factories import ChildFactory, ParentFactory, UserFactory

FULL = "13812345678"  # parent_a's number in the world (tests/conftest.py)
MASKED = "138****5678"


# --- surveys ------------------------------------------------------------------------------------


@pytest.fixture
def survey(world):
    today = timezone.localdate()
    return Survey.objects.create(
        school_class=world.class_a, title="十一月作业量调查", start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=7), created_by=SchoolStaff.objects.get(user=world.teacher_a),
    )  # fmt: skip


def _parent_of(child, username):
    parent = ParentFactory(user__username=username)
    child.parents.add(parent)
    return parent.user


@pytest.mark.django_db
def test_the_survey_page_is_a_404_for_a_parent_of_another_class(world, survey, client_for):
    url = reverse("homework:survey_answer", args=[survey.token])
    other_class = _parent_of(world.child_b, "parent_b")  # same school, class_b
    stranger = ParentFactory(user__username="stranger").user  # no child at all
    for user in (other_class, stranger):
        page = client_for(user).get(url)
        assert page.status_code == 404
        assert survey.title not in page.content.decode()
    mine = client_for(world.parent_a).get(url)
    assert mine.status_code == 200 and survey.title in mine.content.decode()


@pytest.mark.django_db
def test_a_parent_with_children_in_two_classes_sees_the_survey_once(world, survey, client_for):
    twins = _parent_of(world.child_b, "twins")
    ChildFactory(school_class=world.class_a).parents.add(twins.parent)
    ChildFactory(school_class=world.class_a).parents.add(twins.parent)  # two rows of the join
    page = client_for(twins).get(reverse("homework:survey_answer", args=[survey.token]))
    assert page.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_another_classes_parent_cannot_answer_and_nothing_is_written(world, survey, client_for):
    other_class = _parent_of(world.child_b, "parent_b")
    url = reverse("homework:survey_answer", args=[survey.token])
    r = client_for(other_class).post(url, {"load": "too_much", "typical_minutes": "70"})
    assert r.status_code == 404
    assert not SurveyAnswer.objects.exists() and not SurveyBallot.objects.exists()
    assert not AuditLog.objects.filter(action="homework.survey.answered").exists()
    r = client_for(world.parent_a).post(url, {"load": "too_much", "typical_minutes": "70"})
    assert r.status_code == 200 and SurveyAnswer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_term_survey_offers_and_takes_only_the_parents_own_schools(world, client_for):
    from afterschool.models import TermSurvey
    from tests.post_routes.cases_afterschool import _ended

    course = _ended(world)  # child_a (parent_a) took a course of school_a this term
    pair = f"{world.school_a.pk}:{course.plan.term_id}"
    stranger = ParentFactory(user__username="stranger").user
    c = client_for(stranger)
    assert f'value="{pair}"' not in c.get(reverse("afterschool:survey")).content.decode()
    r = c.post(reverse("afterschool:survey"), {"pair": pair, "answer": "satisfied"})
    assert r.status_code == 200 and "请选择学校和学期" in r.content.decode()
    assert not TermSurvey.objects.exists()
    mine = client_for(world.parent_a).get(reverse("afterschool:survey")).content.decode()
    assert f'value="{pair}"' in mine


# --- phone numbers in the admin -----------------------------------------------------------------


def staff_with(*codenames, username="office"):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="portal", codename__in=codenames)
    )
    return user


def parent_of(world):
    return Parent.objects.get(user=world.parent_a)


def shown():
    return AuditLog.objects.filter(action="portal.parent.phone_shown")


@pytest.mark.django_db
def test_the_list_and_the_change_page_show_the_phone_masked(world, superuser, client_for):
    c = client_for(superuser)
    listing = c.get(reverse("admin:portal_parent_changelist")).content.decode()
    assert MASKED in listing and FULL not in listing
    change = c.get(reverse("admin:portal_parent_change", args=[parent_of(world).pk]))
    html = change.content.decode()
    assert change.status_code == 200 and MASKED in html and FULL not in html
    assert 'name="phone"' not in html and 'name="new_phone"' in html  # write-only
    # searching by a phone number finds nobody (no oracle a digit at a time)
    found = c.get(reverse("admin:portal_parent_changelist"), {"q": FULL}).content.decode()
    assert "甲家长" not in found
    assert not shown().exists()  # looking at the masked pages records nothing


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_show_a_phone(world, client_for):
    clerk = staff_with("view_parent", "change_parent")
    c = client_for(clerk)
    url = reverse("admin:portal_parent_phone", args=[parent_of(world).pk])
    assert c.get(url).status_code == 403
    assert c.post(url).status_code == 403
    change = c.get(reverse("admin:portal_parent_change", args=[parent_of(world).pk]))
    assert url not in change.content.decode() and MASKED in change.content.decode()
    listing = c.post(
        reverse("admin:portal_parent_changelist"),
        {"action": "show_phones", "_selected_action": [parent_of(world).pk]},
    )
    assert FULL not in listing.content.decode()
    assert not shown().exists()


@pytest.mark.django_db(transaction=True)
def test_a_holder_of_the_permission_shows_a_phone_and_it_is_audited(world, client_for):
    officer = staff_with("view_parent", "view_parent_phone")
    c = client_for(officer)
    parent = parent_of(world)
    url = reverse("admin:portal_parent_phone", args=[parent.pk])
    change = c.get(reverse("admin:portal_parent_change", args=[parent.pk])).content.decode()
    assert url in change and FULL not in change  # a link to the show page, masked still
    page = c.get(url)
    assert FULL not in page.content.decode() and not shown().exists()  # GET only offers
    r = c.post(url)
    assert r.status_code == 200 and FULL in r.content.decode()
    assert "no-store" in r["Cache-Control"]
    row = shown().get()
    assert (row.actor, row.object_id, row.new) == (officer, str(parent.pk), {"phone": MASKED})


@pytest.mark.django_db(transaction=True)
def test_the_list_action_shows_the_selected_phones_one_audit_row_each(world, superuser, client_for):
    other = ParentFactory(user__username="p2", phone="13900001111", name="乙家长")
    r = client_for(superuser).post(
        reverse("admin:portal_parent_changelist"),
        {"action": "show_phones", "_selected_action": [parent_of(world).pk, other.pk]},
    )
    html = r.content.decode()
    assert r.status_code == 200 and FULL in html and "13900001111" in html
    assert sorted(shown().values_list("object_id", flat=True)) == sorted(
        [str(parent_of(world).pk), str(other.pk)]
    )


@pytest.mark.django_db(transaction=True)
def test_a_new_number_is_typed_in_and_the_audit_keeps_it_masked(world, superuser, client_for):
    parent = parent_of(world)
    url = reverse("admin:portal_parent_change", args=[parent.pk])
    c = client_for(superuser)
    form = {"user": world.parent_a.pk, "name": "甲家长", "new_phone": ""}
    bad = c.post(url, {**form, "new_phone": "12345"})
    assert bad.status_code == 200 and "手机号应为以1开头的11位数字" in bad.content.decode()
    assert Parent.objects.get(pk=parent.pk).phone == FULL
    assert c.post(url, {**form, "name": "甲家长（父）"}).status_code == 302  # blank: kept
    assert Parent.objects.get(pk=parent.pk).phone == FULL
    assert c.post(url, {**form, "new_phone": "13987654321"}).status_code == 302
    assert Parent.objects.get(pk=parent.pk).phone == "13987654321"
    changed = AuditLog.objects.filter(action="portal.parent.changed").order_by("pk").last()
    assert changed.old["phone"] == MASKED and changed.new["phone"] == "139****4321"
    assert not any(FULL in str(a.old) + str(a.new) for a in AuditLog.objects.all())


@pytest.mark.django_db(transaction=True)
def test_adding_a_parent_needs_a_number_and_deleting_one_keeps_it_masked(superuser, client_for):
    c = client_for(superuser)
    user = UserFactory(username="newparent")
    add = reverse("admin:portal_parent_add")
    r = c.post(add, {"user": user.pk, "name": "丙家长", "new_phone": ""})
    assert "请填写家长的手机号" in r.content.decode() and not Parent.objects.exists()
    assert (
        c.post(add, {"user": user.pk, "name": "丙家长", "new_phone": "13700001234"}).status_code
        == 302
    )
    parent = Parent.objects.get()
    assert parent.phone == "13700001234"
    assert AuditLog.objects.get(action="portal.parent.created").new["phone"] == "137****1234"
    delete = reverse("admin:portal_parent_delete", args=[parent.pk])
    assert c.post(delete, {"post": "yes"}).status_code == 302
    assert AuditLog.objects.get(action="portal.parent.deleted").old["phone"] == "137****1234"
