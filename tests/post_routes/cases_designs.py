"""POST cases of the homework design library (/homework/designs/): submitting and
re-submitting a design, the review, 选优推广, the principal's review group."""

from django.urls import reverse

from homework import designs
from homework.design_models import HomeworkDesign, ReviewMember
from tests.factories import SchoolStaffFactory
from tests.homework.design_helpers import approved, reviewer, submit
from tests.post_routes import Case, case

VALID = {
    "title": "两位数乘法分层作业", "grade": 3, "subject": "数学", "unit": "第四单元",
    "basic_content": "口算练习20题", "basic_minutes": 15,
    "improve_content": "解决问题3道", "improve_minutes": 10,
}  # fmt: skip
NO_BASIC = {k: v for k, v in VALID.items() if not k.startswith("basic")}
SCHOOL_ONLY = ("anonymous", "parent", "stranger_parent", "bureau_homework", "staff_without_group")


def _design(pk):
    return lambda: HomeworkDesign.objects.values_list(
        "status", "title", "review_comment", "shared_on"
    ).get(pk=pk)


@case("designs:new", refused=SCHOOL_ONLY)
def new(w):
    return Case(
        url=reverse("designs:new"), user=w.teacher_a, valid=VALID,
        state=lambda: list(HomeworkDesign.objects.values_list("title", "status")),
        audit="homework.design.submitted",
        invalid=NO_BASIC, error="基础层：必须填写（提高、拓展层可选）。",
    )  # fmt: skip


@case("designs:resubmit", refused=("anonymous", "other_school", "teacher", "parent",
                                   "bureau_homework"))  # fmt: skip
def resubmit(w):
    rev = reviewer(w)
    d = submit(w)
    designs.design_review(actor=rev, design_id=d.pk, decision="return", comment="请补充答案")
    return Case(
        url=reverse("designs:resubmit", args=[d.pk]), user=w.teacher_a,
        valid=VALID | {"title": "修改后的分层作业"}, state=_design(d.pk),
        audit="homework.design.resubmitted",
        invalid=NO_BASIC, error="基础层：必须填写（提高、拓展层可选）。",
        who={"teacher": rev},  # another teacher of the school (the reviewer): not theirs, 404
    )  # fmt: skip


@case("designs:review", refused=("anonymous", "other_school", "teacher", "parent",
                                 "bureau_homework", "staff_without_group"))  # fmt: skip
def review(w):
    rev = reviewer(w)
    d = submit(w)
    return Case(
        url=reverse("designs:review", args=[d.pk]), user=rev,
        valid={"decision": "return", "comment": "请补充参考答案"}, state=_design(d.pk),
        audit="homework.design.returned",
        invalid={"decision": "return", "comment": "太难"},
        error="审核意见：退回须写明修改意见（至少 5 个字）。",
    )  # fmt: skip


@case("designs:share", refused=("anonymous", "school", "teacher", "parent",
                                "bureau_afterschool", "staff_without_group"))  # fmt: skip
def share(w):
    d = approved(w)
    return Case(
        url=reverse("designs:share", args=[d.pk]), user=w.bureau, valid={},
        state=_design(d.pk), audit="homework.design.shared",
        no_invalid="a button without fields; a design not approved is not even visible to the "
        "bureau (404), its refusal is tested in tests/homework/test_designs.py",
    )  # fmt: skip


REVIEWERS_REFUSED = ("anonymous", "teacher", "parent", "bureau_homework", "staff_without_group")


def _members():
    return list(ReviewMember.objects.values_list("staff_id", flat=True))


@case("designs:reviewers_add", refused=REVIEWERS_REFUSED)
def reviewers_add(w):
    return Case(
        url=reverse("designs:reviewers_add"), user=w.principal_a,
        valid={"staff": w.teacher_a.school_staff.pk}, state=_members,
        audit="homework.design.reviewer_added",
        invalid={"staff": w.principal_b.school_staff.pk}, error="教职工：请选择本校教职工。",
    )  # fmt: skip


@case("designs:reviewers_remove", refused=REVIEWERS_REFUSED)
def reviewers_remove(w):
    designs.reviewer_designate(actor=w.principal_a, staff_id=w.teacher_a.school_staff.pk)
    other = SchoolStaffFactory(school=w.school_a, name="另一位老师", user__username="lw")
    return Case(
        url=reverse("designs:reviewers_remove"), user=w.principal_a,
        valid={"staff": w.teacher_a.school_staff.pk}, state=_members,
        audit="homework.design.reviewer_removed",
        invalid={"staff": other.pk}, error="教职工：该教职工不是作业审核小组成员。",
    )  # fmt: skip
