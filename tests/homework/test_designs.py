"""The homework design library (作业设计库): submission in layers, the school's review group,
选优推广 by the bureau, Chinese search with the case library's index, picking a layer when
publishing (its minutes count toward the limit), the report and the dashboard panel."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from homework import design_selectors as sel
from homework import designs
from homework.design_dashboard import design_share
from homework.design_models import DesignLayer, DesignTerm, DesignUse, HomeworkDesign
from homework.models import HomeworkItem
from homework.services import homework_publish
from portal.dashboard import Filters
from portal.models import AuditLog
from tests.factories import SchoolClassFactory, UserFactory
from tests.homework.conftest import DAY, item_data
from tests.homework.design_helpers import LAYERS, approved, reviewer, submit

pytestmark = pytest.mark.django_db
S = HomeworkDesign.Status


# --- submission ------------------------------------------------------------------------------


def test_a_teacher_submits_a_design_in_three_layers_and_it_is_audited_and_indexed(world):
    d = submit(world)
    assert d.status == S.SUBMITTED and d.author == world.teacher_a.school_staff
    assert dict(d.layers.values_list("level", "minutes")) == {
        "basic": 15, "improve": 10, "extend": 20,
    }  # fmt: skip
    assert AuditLog.objects.filter(action="homework.design.submitted").count() == 1
    assert DesignTerm.objects.filter(design=d, term="乘法").exists()


def test_the_basic_layer_is_required(world):
    with pytest.raises(ValidationError) as exc:
        submit(world, layers={"improve": ("提高题", 10)})
    assert "基础层：必须填写" in str(exc.value)
    assert not HomeworkDesign.objects.exists() and not DesignLayer.objects.exists()


@pytest.mark.parametrize("minutes, ok", [(0, False), (1, True), (300, True), (301, False)])
def test_a_layers_minutes_are_between_1_and_300(world, minutes, ok):
    layers = {"basic": ("口算练习", minutes)}
    if ok:
        assert submit(world, layers=layers).layers.get().minutes == minutes
    else:
        with pytest.raises(ValidationError, match="基础层：预计用时应为 1-300 分钟"):
            submit(world, layers=layers)
        assert not HomeworkDesign.objects.exists()


def test_a_grade_the_school_does_not_teach_is_refused(world):
    with pytest.raises(ValidationError, match="年级：甲小学没有这个年级"):
        submit(world, grade=7)


@pytest.mark.parametrize("who", ["parent_a", "bureau"])
def test_only_school_staff_submit(world, who):
    with pytest.raises(PermissionDenied):
        submit(world, author=getattr(world, who))


def test_the_form_keeps_what_was_typed_and_names_the_field(world, client_for):
    r = client_for(world.teacher_a).post(reverse("designs:new"), {
        "title": "乘法分层作业", "grade": 3, "subject": "数学", "unit": "第四单元",
        "improve_content": "提高题", "improve_minutes": 10,
    })  # fmt: skip
    assert r.status_code == 400
    body = r.content.decode()
    assert "基础层：必须填写" in body and "乘法分层作业" in body
    assert not HomeworkDesign.objects.exists()


# --- the review group and the review ---------------------------------------------------------


def test_only_the_principal_keeps_the_review_group(world):
    for actor in (world.teacher_a, world.bureau, world.principal_b):
        with pytest.raises((PermissionDenied, ValidationError)):
            designs.reviewer_designate(actor=actor, staff_id=world.teacher_a.school_staff.pk)
    assert not designs.is_reviewer(world.teacher_a)


def test_a_reviewer_approves_and_the_design_enters_the_library(world):
    rev = reviewer(world)
    d = submit(world)
    assert d not in sel.library(world.teacher_a)
    designs.design_review(actor=rev, design_id=d.pk, decision="approve")
    d.refresh_from_db()
    assert d.status == S.APPROVED and d.approved_on is not None and d.reviewed_by.user == rev
    assert d in sel.library(world.teacher_a)


def test_a_teacher_outside_the_review_group_cannot_review(world):
    d = submit(world)
    with pytest.raises(PermissionDenied):
        designs.design_review(actor=world.principal_a, design_id=d.pk, decision="approve")


def test_the_author_does_not_review_their_own_design_unless_the_setting_says(world, settings):
    rev = reviewer(world)
    d = submit(world, author=rev)
    with pytest.raises(ValidationError, match="不能审核本人提交的作业设计"):
        designs.design_review(actor=rev, design_id=d.pk, decision="approve")
    settings.HOMEWORK_DESIGN_AUTHOR_MAY_REVIEW = True
    designs.design_review(actor=rev, design_id=d.pk, decision="approve")


@pytest.mark.parametrize("comment, ok", [("请改一下", False), ("请补充答案", True)])
def test_a_return_says_what_to_change_at_least_the_setting_characters(world, comment, ok):
    rev, d = reviewer(world), submit(world)
    if ok:
        designs.design_review(actor=rev, design_id=d.pk, decision="return", comment=comment)
        d.refresh_from_db()
        assert d.status == S.RETURNED and d.review_comment == comment
    else:
        with pytest.raises(ValidationError, match="退回须写明修改意见（至少 5 个字）"):
            designs.design_review(actor=rev, design_id=d.pk, decision="return", comment=comment)
        d.refresh_from_db()
        assert d.status == S.SUBMITTED


def test_an_approved_design_cannot_be_returned(world):
    rev = reviewer(world)
    d = approved(world, rev)
    with pytest.raises(ValidationError, match="当前为“已通过”"):
        designs.design_review(actor=rev, design_id=d.pk, decision="return", comment="请再改改看")


def test_the_author_resubmits_a_returned_design_and_it_is_reindexed(world):
    rev, d = reviewer(world), submit(world)
    designs.design_review(actor=rev, design_id=d.pk, decision="return", comment="请补充拓展层")
    designs.design_resubmit(
        actor=world.teacher_a, design_id=d.pk, grade=3, subject="数学", unit="第四单元",
        title="两位数乘法分层作业", layers={"basic": ("竖式计算10题", 12)},
    )  # fmt: skip
    d.refresh_from_db()
    assert d.status == S.SUBMITTED and list(d.layers.values_list("minutes", flat=True)) == [12]
    assert DesignTerm.objects.filter(design=d, term="竖式").exists()
    assert not DesignTerm.objects.filter(design=d, term="口算").exists()


def test_only_the_author_resubmits_and_only_a_returned_design(world):
    rev, d = reviewer(world), submit(world)
    kw = {"grade": 3, "subject": "数学", "unit": "u", "title": "t", "layers": LAYERS}
    with pytest.raises(ValidationError, match="只有已退回的作业设计可以修改"):
        designs.design_resubmit(actor=world.teacher_a, design_id=d.pk, **kw)
    designs.design_review(actor=rev, design_id=d.pk, decision="return", comment="请补充答案")
    with pytest.raises(Http404):
        designs.design_resubmit(actor=rev, design_id=d.pk, **kw)


# --- sharing and who sees what ---------------------------------------------------------------


def test_the_bureau_shares_an_approved_design_with_the_district(world, client_for):
    d = approved(world)
    other = SchoolClassFactory(school=world.school_b, grade=3).school
    assert other == world.school_b
    url = reverse("designs:detail", args=[d.pk])
    assert client_for(world.principal_b).get(url).status_code == 404
    designs.design_share(actor=world.bureau, design_id=d.pk)
    designs.design_share(actor=world.bureau, design_id=d.pk)  # again: nothing more
    assert AuditLog.objects.filter(action="homework.design.shared").count() == 1
    assert client_for(world.principal_b).get(url).status_code == 200
    assert d in sel.library(world.principal_b)


def test_a_design_not_approved_is_not_shared(world):
    d = submit(world)
    with pytest.raises(ValidationError, match="只有审核通过的作业设计可以推广"):
        designs.design_share(actor=world.bureau, design_id=d.pk)


@pytest.mark.parametrize("who", ["principal_a", "teacher_a", "parent_a"])
def test_only_bureau_staff_share(world, who):
    d = approved(world)
    with pytest.raises(PermissionDenied):
        designs.design_share(actor=getattr(world, who), design_id=d.pk)


def test_bureau_staff_without_the_homework_line_cannot_share(world):
    d = approved(world)
    other = UserFactory(username="kehou", is_staff=True)
    other.groups.add(Group.objects.get(name="课后服务"))
    with pytest.raises(PermissionDenied):
        designs.design_share(actor=other, design_id=d.pk)


def test_the_bureau_sees_approved_designs_only(world, client_for):
    d = submit(world)
    c = client_for(world.bureau)
    assert c.get(reverse("designs:detail", args=[d.pk])).status_code == 404
    designs.design_review(actor=reviewer(world), design_id=d.pk, decision="approve")
    assert c.get(reverse("designs:detail", args=[d.pk])).status_code == 200


@pytest.mark.parametrize("name", ["designs:index", "designs:mine", "designs:new"])
def test_parents_get_a_403(world, client_for, name):
    assert client_for(world.parent_a).get(reverse(name)).status_code == 403


def test_the_queue_and_the_review_group_page_refuse_others(world, client_for):
    reviewer(world)
    assert client_for(world.teacher_a).get(reverse("designs:queue")).status_code == 403
    assert client_for(world.teacher_a).get(reverse("designs:reviewers")).status_code == 403
    assert client_for(world.principal_a).get(reverse("designs:reviewers")).status_code == 200


# --- search (the case library's tokenizer and BM25) ------------------------------------------


def test_search_finds_designs_by_chinese_words_ranked(world, client_for):
    rev = reviewer(world)
    approved(world, rev, title="两位数乘法分层作业")
    approved(world, rev, title="古诗背诵", subject="语文", unit="第二单元 古诗",
             layers={"basic": ("背诵《山行》并默写", 10)})  # fmt: skip
    found, mode = designs.search(sel.library(world.teacher_a), "乘法")
    assert mode == "and" and [d.title for d in found[0:10]] == ["两位数乘法分层作业"]
    found, mode = designs.search(sel.library(world.teacher_a), "古诗 乘法")
    assert mode == "or" and len(found) == 2
    r = client_for(world.teacher_a).get(reverse("designs:index"), {"q": "山行"})
    assert "古诗背诵" in r.content.decode() and "两位数乘法" not in r.content.decode()


def test_search_keeps_the_dictionarys_whole_words(world):
    approved(world, title="分层作业设计示例")
    found, _mode = designs.search(sel.library(world.teacher_a), "分层作业")
    assert len(found) == 1


# --- picking a layer when publishing ---------------------------------------------------------


def _basic(design):
    return design.layers.get(level="basic")


def test_a_picked_layer_brings_its_minutes_and_content_and_is_recorded(world):
    layer = _basic(approved(world))
    data = item_data(content="", minutes=None)
    item = homework_publish(user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY,
                            design_layer=layer.pk, **data)  # fmt: skip
    assert item.minutes == 15 and item.content == layer.content and item.layer == "基础"
    assert DesignUse.objects.get(item=item).layer == layer
    audit = AuditLog.objects.get(action="homework.item.published", object_id=str(item.pk))
    assert audit.new["design_layer"] == layer.pk


@pytest.mark.parametrize("before, ok", [(45, True), (46, False)])
def test_a_picked_layers_minutes_count_toward_the_limit(world, before, ok):
    layer = _basic(approved(world))  # 15 minutes; grade 3: 60
    homework_publish(user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY,
                     **item_data(subject="语文", minutes=before))  # fmt: skip
    call = lambda: homework_publish(  # noqa: E731
        user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY,
        design_layer=layer.pk, **item_data(minutes=1),
    )  # fmt: skip
    if ok:
        assert call().minutes == 15
    else:
        with pytest.raises(ValidationError, match="共 61 分钟"):
            call()
        assert not DesignUse.objects.exists()


def test_a_layer_of_another_grade_or_subject_is_refused(world):
    rev = reviewer(world)
    layer4 = _basic(approved(world, rev, grade=4, title="四年级设计"))
    with pytest.raises(ValidationError, match="该设计适用于4年级"):
        homework_publish(user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY,
                         design_layer=layer4.pk, **item_data())  # fmt: skip
    layer3 = _basic(approved(world, rev))
    with pytest.raises(ValidationError, match="与所选学科不一致"):
        homework_publish(user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY,
                         design_layer=layer3.pk, **item_data(subject="语文"))  # fmt: skip
    assert not HomeworkItem.objects.exists()


def test_an_unshared_design_of_another_school_cannot_be_picked(world):
    layer = _basic(approved(world))
    with pytest.raises(ValidationError, match="只能选用本校或区推广"):
        homework_publish(user=world.principal_b, school_class_id=world.class_b.pk, date=DAY,
                         design_layer=layer.pk, **item_data())  # fmt: skip
    designs.design_share(actor=world.bureau, design_id=layer.design_id)
    item = homework_publish(user=world.principal_b, school_class_id=world.class_b.pk, date=DAY,
                            design_layer=layer.pk, **item_data())  # fmt: skip
    assert item.minutes == 15


def test_the_publish_page_offers_the_picker_and_publishes_from_a_layer(world, client_for):
    layer = _basic(approved(world))
    c = client_for(world.teacher_a)
    url = reverse("homework:day", args=[world.class_a.pk, DAY.isoformat()])
    assert "选用作业设计" in c.get(url).content.decode()
    r = c.post(url, {"subject": "数学", "content": "", "minutes": "", "kind": "basic",
                     "required": "1", "written": "1", "design_layer": layer.pk})  # fmt: skip
    assert r.status_code == 302
    assert HomeworkItem.objects.get().minutes == 15


def test_without_a_layer_content_and_minutes_stay_required(world, client_for):
    approved(world)
    r = client_for(world.teacher_a).post(
        reverse("homework:day", args=[world.class_a.pk, DAY.isoformat()]),
        {"subject": "数学", "content": "", "minutes": "", "kind": "basic", "required": "1",
         "written": "1"},
    )  # fmt: skip
    body = r.content.decode()
    assert "请填写作业内容。" in body and "请填写预计用时。" in body
    assert not HomeworkItem.objects.exists()


# --- report and dashboard --------------------------------------------------------------------


def _two_items_one_drawn(world):
    layer = _basic(approved(world))
    homework_publish(user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY,
                     design_layer=layer.pk, **item_data())  # fmt: skip
    homework_publish(user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY,
                     **item_data(subject="语文", minutes=10))  # fmt: skip


def test_the_report_gives_the_share_drawn_from_reviewed_designs(world, client_for):
    _two_items_one_drawn(world)
    month = DAY.strftime("%Y-%m")
    r = client_for(world.bureau).get(reverse("designs:report"), {"month": month})
    assert r.status_code == 200
    assert "公示作业 2 项，选用审核通过的作业设计 1 项，占 50%" in r.content.decode()
    r = client_for(world.principal_a).get(reverse("designs:report"), {"month": month})
    body = r.content.decode()
    assert r.status_code == 200 and "甲小学" in body and "乙小学" not in body


@pytest.mark.parametrize("who", ["teacher_a", "parent_a"])
def test_the_report_refuses_teachers_and_parents(world, client_for, who):
    assert client_for(getattr(world, who)).get(reverse("designs:report")).status_code == 403


def test_the_panel_costs_two_queries_and_gives_the_share(world, django_assert_num_queries):
    _two_items_one_drawn(world)
    f = Filters(district=world.school_a.district, month=DAY.strftime("%Y-%m"))
    with django_assert_num_queries(2):
        p = design_share(f)
    assert dict((b.label, b.value) for b in p.series[0].bars)["甲小学"] == 50.0


def test_the_school_pages_open_for_their_users(world, client_for):
    rev = reviewer(world)
    d = submit(world)
    r = client_for(rev).get(reverse("designs:queue"))
    assert r.status_code == 200 and d.title in r.content.decode()
    r = client_for(rev).get(reverse("designs:detail", args=[d.pk]))
    assert "保存审核结论" in r.content.decode()
    designs.design_review(actor=rev, design_id=d.pk, decision="return", comment="请补充答案")
    t = client_for(world.teacher_a)
    assert d.title in t.get(reverse("designs:mine")).content.decode()
    assert t.get(reverse("designs:new")).status_code == 200
    r = t.get(reverse("designs:resubmit", args=[d.pk]))
    assert r.status_code == 200 and "口算练习20题" in r.content.decode()
    assert client_for(rev).get(reverse("designs:resubmit", args=[d.pk])).status_code == 404
