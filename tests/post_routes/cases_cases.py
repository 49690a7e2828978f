"""POST cases of the case library: a school submits and revises a case, the bureau's 案例库
staff review it."""

from django.urls import reverse

from cases import services
from cases.models import Case as LibraryCase
from tests.post_routes import Case, case, staff_of

BODY = "我校推行分层作业设计，" * 30
CASE = {"title": "分层作业的实践", "themes": ["作业管理"], "body": BODY}


def _cases():
    return list(LibraryCase.objects.order_by("pk").values_list("title", "status"))


def _submitted(w):
    services.case_submit(user=w.principal_a, title=CASE["title"], themes=CASE["themes"], body=BODY)
    return LibraryCase.objects.get()


@case("cases:submit", refused=("anonymous", "parent", "bureau_cases"))
def submit(w):
    return Case(
        url=reverse("cases:submit"),
        user=w.principal_a,
        valid=CASE,
        state=_cases,
        audit="cases.case.submitted",
        invalid={**CASE, "body": "太短了"},
        error="正文太短",
    )


@case("cases:edit", refused=("anonymous", "other_school", "parent"))
def edit(w):
    c = _submitted(w)
    services.case_review(
        actor=staff_of("案例库", "editor"), case_id=c.pk, to="returned", comment="请补充成效数据"
    )
    return Case(
        url=reverse("cases:edit", args=[c.pk]),
        user=w.principal_a,
        valid={**CASE, "title": "分层作业的实践（修订）"},
        state=_cases,
        audit="cases.case.resubmitted",
        invalid={**CASE, "themes": []},
        error="请至少选择一个主题",
    )


@case("cases:review", refused=("anonymous", "school", "bureau_homework"))
def review(w):
    c = _submitted(w)
    return Case(
        url=reverse("cases:review", args=[c.pk]),
        user=staff_of("案例库", "editor"),
        valid={"to": "returned", "comment": "请补充成效数据"},
        state=_cases,
        audit="cases.case.returned",
        invalid={"to": "returned", "comment": ""},
        error="退回时请填写审核意见",
    )
