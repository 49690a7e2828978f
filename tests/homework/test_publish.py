import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from homework.models import HomeworkItem, HomeworkPolicy, HomeworkRevision
from homework.services import homework_publish, homework_update, homework_withdraw
from portal.models import AuditLog
from tests.factories import SchoolClassFactory
from tests.homework.conftest import DAY, item_data

pytestmark = pytest.mark.django_db


def publish(user, school_class, **overrides):
    return homework_publish(
        user=user, school_class_id=school_class.pk, date=DAY, **item_data(**overrides)
    )


@pytest.mark.parametrize("last, allowed", [(19, True), (20, True), (21, False)])
def test_grade_4_at_59_60_61_minutes(world, grade4, last, allowed):
    publish(world.teacher_a, grade4, subject="语文", minutes=20)
    publish(world.teacher_a, grade4, subject="数学", minutes=20)
    if allowed:
        publish(world.teacher_a, grade4, subject="英语", minutes=last)
        assert HomeworkItem.objects.filter(school_class=grade4).count() == 3
    else:
        with pytest.raises(ValidationError, match="共 61 分钟"):
            publish(world.teacher_a, grade4, subject="英语", minutes=last)
        assert HomeworkItem.objects.filter(school_class=grade4).count() == 2


@pytest.mark.parametrize("minutes, allowed", [(89, True), (90, True), (91, False)])
def test_grade_8_at_89_90_91_minutes(world, minutes, allowed):
    grade8 = SchoolClassFactory(school=world.school_a, grade=8, number=1)
    if allowed:
        publish(world.teacher_a, grade8, minutes=minutes)
    else:
        with pytest.raises(ValidationError, match="超过8年级 90 分钟的上限"):
            publish(world.teacher_a, grade8, minutes=minutes)


def test_grades_1_and_2_get_no_written_homework(world):
    grade1 = SchoolClassFactory(school=world.school_a, grade=1, number=1)
    with pytest.raises(ValidationError, match="不布置家庭书面作业"):
        publish(world.teacher_a, grade1, minutes=5)
    with pytest.raises(ValidationError, match="不布置家庭书面作业"):
        publish(world.teacher_a, grade1, minutes=5, required=False)
    publish(world.teacher_a, grade1, minutes=15, written=False, kind="practice")  # reading aloud
    assert HomeworkItem.objects.filter(school_class=grade1).count() == 1


def test_optional_and_non_written_items_do_not_count(world, grade4):
    publish(world.teacher_a, grade4, minutes=60)
    publish(world.teacher_a, grade4, subject="语文", minutes=30, required=False)
    publish(world.teacher_a, grade4, subject="科学", minutes=30, written=False, kind="practice")
    with pytest.raises(ValidationError):
        publish(world.teacher_a, grade4, subject="英语", minutes=1)


def test_the_bureau_changes_the_limit_and_the_setting(world, grade4):
    policy = HomeworkPolicy.current()
    policy.limit_grades_3_6 = 70
    policy.count_optional = True
    policy.save()
    publish(world.teacher_a, grade4, minutes=70)
    with pytest.raises(ValidationError, match="70 分钟的上限"):
        publish(world.teacher_a, grade4, subject="语文", minutes=5, required=False)


def test_a_teacher_cannot_publish_for_another_school(world):
    with pytest.raises(PermissionDenied):
        publish(world.principal_b, world.class_a)
    with pytest.raises(PermissionDenied):
        publish(world.parent_a, world.class_a)


def test_publishing_costs_a_constant_number_of_queries(world, grade4, django_assert_num_queries):
    publish(world.teacher_a, grade4, minutes=5)
    # lock timeout (SET LOCAL), class lock, policy, day total, insert, audit content type
    # (cached after), audit insert
    with django_assert_num_queries(8):
        publish(world.teacher_a, grade4, subject="语文", minutes=5)
    for subject in ["英语", "科学", "道德与法治"]:
        publish(world.teacher_a, grade4, subject=subject, minutes=5)
    with django_assert_num_queries(8):
        publish(world.teacher_a, grade4, subject="其他", minutes=5)


def test_the_head_teacher_adjusts_any_subject_and_history_is_kept(
    world, grade4, head_teacher, other_teacher
):
    item = publish(other_teacher, grade4, minutes=40)
    homework_update(user=head_teacher, item_id=item.pk, **item_data(minutes=30))
    item.refresh_from_db()
    assert item.minutes == 30
    revision = HomeworkRevision.objects.get(item=item)
    assert revision.before["minutes"] == 40 and revision.after["minutes"] == 30
    assert AuditLog.objects.filter(action="homework.item.changed", object_id=str(item.pk)).exists()
    # a plain teacher cannot change a colleague's item
    with pytest.raises(PermissionDenied):
        homework_update(user=world.teacher_a, item_id=item.pk, **item_data(minutes=10))
    homework_withdraw(user=head_teacher, item_id=item.pk)
    item.refresh_from_db()
    assert item.status == HomeworkItem.Status.WITHDRAWN
    assert HomeworkRevision.objects.filter(item=item).count() == 2


def test_an_update_is_held_to_the_limit_too(world, grade4):
    publish(world.teacher_a, grade4, minutes=40)
    item = publish(world.teacher_a, grade4, subject="语文", minutes=20)
    with pytest.raises(ValidationError, match="共 61 分钟"):
        homework_update(
            user=world.teacher_a, item_id=item.pk, **item_data(subject="语文", minutes=21)
        )


def test_the_refused_form_shows_the_total_and_keeps_what_was_typed(world, grade4, client_for):
    publish(world.teacher_a, grade4, minutes=50)
    c = client_for(world.teacher_a)
    url = reverse("homework:day", args=[grade4.pk, DAY.isoformat()])
    response = c.post(
        url,
        {
            **item_data(subject="语文", minutes=15, content="背诵古诗两首"),
            "required": "1",
            "written": "1",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "本班当天已有 50 分钟" in html and "共 65 分钟" in html
    assert "背诵古诗两首" in html and 'value="15"' in html
    assert HomeworkItem.objects.filter(school_class=grade4).count() == 1


def test_a_bad_form_names_the_fields_in_chinese(world, grade4, client_for):
    url = reverse("homework:day", args=[grade4.pk, DAY.isoformat()])
    html = client_for(world.teacher_a).post(url, {"minutes": "abc"}).content.decode()
    assert "请选择学科" in html and "请填写作业内容" in html and "预计用时应为整数分钟" in html


def test_teacher_pages_refuse_other_schools_parents_bureau_and_anonymous(world, grade4, client_for):
    item = publish(world.teacher_a, grade4)
    urls = [
        reverse("homework:day", args=[grade4.pk, DAY.isoformat()]),
        reverse("homework:week", args=[grade4.pk, DAY.isoformat()]),
        reverse("homework:poster", args=[grade4.pk]),
        reverse("homework:qr", args=[grade4.pk]),
        reverse("homework:edit", args=[item.pk]),
    ]
    for url in urls:
        assert client_for(world.teacher_a).get(url).status_code == 200, url
        assert client_for(world.principal_b).get(url).status_code == 404, url
        assert client_for(world.parent_a).get(url).status_code == 403, url
        assert client_for(world.bureau).get(url).status_code == 403, url
        assert client_for(None).get(url).status_code == 302, url
    listing = reverse("homework:classes")
    assert client_for(world.parent_a).get(listing).status_code == 403
    assert "四年级1班" not in client_for(world.principal_b).get(listing).content.decode()


def test_the_class_list_runs_a_fixed_number_of_queries(
    world, client_for, django_assert_num_queries
):
    for number in range(1, 13):
        c = SchoolClassFactory(school=world.school_a, grade=5, number=number)
        publish(world.teacher_a, c, minutes=10)
    client = client_for(world.teacher_a)
    url = reverse("homework:classes") + f"?date={DAY.isoformat()}"
    client.get(url)
    with django_assert_num_queries(5):  # session, user, school_staff, policy, classes
        assert client.get(url).status_code == 200


def test_the_day_page_runs_a_fixed_number_of_queries(
    world, grade4, client_for, django_assert_num_queries
):
    for subject in ["语文", "数学", "英语"]:
        publish(world.teacher_a, grade4, subject=subject, minutes=5)
    c = client_for(world.teacher_a)
    url = reverse("homework:day", args=[grade4.pk, DAY.isoformat()])
    c.get(url)
    # session, user, staff, class, policy, items (with their class), day total
    with django_assert_num_queries(7):
        assert c.get(url).status_code == 200
    publish(world.teacher_a, grade4, subject="科学", minutes=5)
    with django_assert_num_queries(7):
        c.get(url)
