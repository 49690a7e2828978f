"""Letters to parents (致家长的一封信, issue 18 part 6): the audience (district, schools,
grades, classes), a school only within itself, one inbox notice per parent, read receipts
and the sender's read rates, and a parent seeing only letters addressed to them."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance import letters
from governance.letter_models import ParentLetter, ParentLetterDelivery
from portal.models import Notice
from portal.notices import digest_for
from tests.factories import ChildFactory, ParentFactory, SchoolClassFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def more(world):
    """A second parent in school A's grade 5 and one in school B's class."""
    class_a5 = SchoolClassFactory(school=world.school_a, grade=5, number=2)
    p5 = ParentFactory(user__username="parent_a5", user__email="a5@example.com")
    ChildFactory(school_class=class_a5, school=world.school_a, name="五年级同学").parents.add(p5)
    pb = ParentFactory(user__username="parent_b")
    world.child_b.parents.add(pb)
    return class_a5, p5.user, pb.user


def _send(actor, **kw):
    kw.setdefault("title", "暑期安全致家长的一封信")
    kw.setdefault("body", "各位家长：请注意假期安全。")
    return letters.letter_send(actor=actor, **kw)


def _recipients(letter):
    return set(letter.deliveries.values_list("user__username", flat=True))


def test_a_district_letter_reaches_every_parent_once(
    world, more, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        letter = _send(world.bureau, district_id=world.school_a.district_id)
    assert _recipients(letter) == {"parent_a", "parent_a5", "parent_b"}
    assert Notice.objects.filter(key=letter.notice_key).count() == 3


def test_grades_and_classes_narrow_the_audience(world, more):
    class_a5, _p5, _pb = more
    by_grade = _send(world.bureau, district_id=world.school_a.district_id, grades=[5])
    assert _recipients(by_grade) == {"parent_a5"}
    by_class = _send(
        world.bureau, district_id=world.school_a.district_id, class_ids=[world.class_b.pk]
    )
    assert _recipients(by_class) == {"parent_b"}
    by_school = _send(
        world.bureau, district_id=world.school_a.district_id, school_ids=[world.school_a.pk]
    )
    assert _recipients(by_school) == {"parent_a", "parent_a5"}


def test_a_school_writes_to_its_own_parents_only(world, more):
    letter = _send(world.principal_a)
    assert _recipients(letter) == {"parent_a", "parent_a5"}
    assert letter.sender_school == world.school_a


def test_a_school_cannot_address_another_school(world, more):
    with pytest.raises(ValidationError) as exc:
        _send(world.principal_a, school_ids=[world.school_b.pk])
    assert exc.value.message_dict["schools"] == ["学校只能向本校家长发信，不能选择其他学校。"]
    with pytest.raises(ValidationError) as exc:
        _send(world.principal_a, class_ids=[world.class_b.pk])
    assert "不能选择其他学校的班级" in exc.value.message_dict["classes"][0]
    assert not ParentLetter.objects.exists() and not ParentLetterDelivery.objects.exists()


def test_an_empty_audience_sends_nothing(world, more):
    with pytest.raises(ValidationError) as exc:
        _send(world.bureau, district_id=world.school_a.district_id, grades=[9])
    assert exc.value.messages == ["所选范围内没有家长账号，信件未发送。"]
    assert not ParentLetter.objects.exists()


def test_a_letter_needs_a_title_and_a_body(world):
    with pytest.raises(ValidationError) as exc:
        _send(world.bureau, district_id=world.school_a.district_id, title=" ", body="")
    assert exc.value.message_dict == {"title": ["请填写标题。"], "body": ["请填写正文。"]}


@pytest.mark.parametrize("who", ["teacher_a", "parent_a"])
def test_teachers_and_parents_send_no_letters(world, who):
    with pytest.raises(PermissionDenied):
        _send(getattr(world, who), district_id=world.school_a.district_id)


def test_opening_the_letter_is_its_read_receipt(
    world, more, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        letter = _send(world.bureau, district_id=world.school_a.district_id)
    inbox = client_for(world.parent_a).get(reverse("letter:inbox"))
    assert "暑期安全致家长的一封信" in inbox.content.decode() and "未读" in inbox.content.decode()
    page = client_for(world.parent_a).get(reverse("letter:read", args=[letter.pk]))
    assert page.status_code == 200 and "请注意假期安全" in page.content.decode()
    notice = Notice.objects.get(user=world.parent_a, key=letter.notice_key)
    assert notice.read_at is not None
    rates = client_for(world.bureau).get(reverse("letter:detail", args=[letter.pk]))
    html = rates.content.decode()
    assert 'data-testid="read-count">1<' in html
    assert "甲小学" in html and "50%" in html and "0%" in html  # school A: 1 of 2; B: 0 of 1


def test_a_parent_sees_only_letters_addressed_to_them(world, more, client_for):
    letter = _send(world.principal_a, grades=[5])  # parent_a's child is in grade 3
    assert (
        client_for(world.parent_a).get(reverse("letter:read", args=[letter.pk])).status_code == 404
    )
    assert (
        "暑期安全" not in client_for(world.parent_a).get(reverse("letter:inbox")).content.decode()
    )
    assert client_for(more[1]).get(reverse("letter:read", args=[letter.pk])).status_code == 200


def test_the_senders_pages_refuse_others(world, more, client_for):
    letter = _send(world.principal_a)
    url = reverse("letter:detail", args=[letter.pk])
    assert client_for(world.principal_b).get(url).status_code == 404
    assert client_for(world.teacher_a).get(url).status_code == 403
    assert client_for(world.parent_a).get(url).status_code == 403
    assert client_for(world.principal_a).get(url).status_code == 200
    assert client_for(world.teacher_a).get(reverse("letter:inbox")).status_code == 403


def test_a_school_posting_another_school_is_refused_on_the_page(world, more, client_for):
    resp = client_for(world.principal_a).post(
        reverse("letter:compose"), {"schools": [world.school_b.pk], "title": "通知", "body": "正文"}
    )
    assert resp.status_code == 400
    assert "学校只能向本校家长发信，不能选择其他学校。" in resp.content.decode()
    assert not ParentLetter.objects.exists()


def test_the_letter_is_in_the_daily_digest(world, more, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _send(world.bureau, district_id=world.school_a.district_id, grades=[5])
    assert digest_for(more[1].pk) == 1
    assert "致家长的一封信：暑期安全致家长的一封信" in mail.outbox[-1].body


def test_the_rates_cost_the_same_for_many_parents(world, client_for, django_assert_max_num_queries):
    for i in range(40):
        p = ParentFactory(user__username=f"p{i}")
        ChildFactory(school_class=world.class_a, school=world.school_a).parents.add(p)
    letter = _send(world.bureau, district_id=world.school_a.district_id)
    client = client_for(world.bureau)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("letter:detail", args=[letter.pk])).status_code == 200
