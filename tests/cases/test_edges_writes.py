"""The case library's writes as production runs them (no ATOMIC_REQUESTS,
``transaction=True``). The admin's case and document pages saved and deleted rows directly
(unaudited, and an edited case kept its old search segmentation); they now call
cases.services. Review is for bureau staff of the case library (is_bureau, line "cases")."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cases import search, services
from cases.models import Case, SourceDocument
from portal.models import AuditLog
from tests.post_routes import staff_of

pytestmark = pytest.mark.django_db(transaction=True)

BODY = "我校推行分层作业设计，" * 30


def audits(action: str) -> int:
    return AuditLog.objects.filter(action=action).count()


@pytest.fixture
def editor(db):
    return staff_of("案例库", "editor")


@pytest.fixture
def submitted(world):
    return services.case_submit(
        user=world.principal_a, title="分层作业的实践", themes=["作业管理"], body=BODY
    )


def case_form(case, **overrides):
    data = {
        "title": case.title, "province": "", "city": "", "district": case.district,
        "place": "", "unit": case.unit, "themes": ",".join(case.themes),
        "theme_source": case.theme_source, "published_on": "", "body": case.body,
    }  # fmt: skip
    data.update(overrides)
    return data


# --- the admin's case page ------------------------------------------------------------------


def test_an_admin_edit_is_audited_and_searchable_by_the_new_title(
    world, client_for, editor, submitted
):
    url = reverse("admin:cases_case_change", args=[submitted.pk])
    response = client_for(editor).post(url, case_form(submitted, title="课后延时服务的探索"))
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.title == "课后延时服务的探索"
    assert case.search_title == search.segmented("课后延时服务的探索")
    log = AuditLog.objects.get(action="cases.case.changed")
    assert log.actor == editor and log.old == {"title": "分层作业的实践"}
    assert log.new == {"title": "课后延时服务的探索"}


def test_an_admin_edit_without_a_title_says_why_and_writes_nothing(
    world, client_for, editor, submitted
):
    url = reverse("admin:cases_case_change", args=[submitted.pk])
    response = client_for(editor).post(url, case_form(submitted, title=""))
    assert response.status_code == 200 and "该字段是必填项" in response.content.decode()
    assert Case.objects.get().title == "分层作业的实践"
    assert audits("cases.case.changed") == 0


def test_bureau_staff_of_another_line_cannot_edit_or_delete_a_case(world, client_for, submitted):
    c = client_for(world.bureau)
    change = reverse("admin:cases_case_change", args=[submitted.pk])
    assert c.post(change, case_form(submitted, title="改")).status_code == 403
    delete = reverse("admin:cases_case_delete", args=[submitted.pk])
    assert c.post(delete, {"post": "yes"}).status_code == 403
    assert Case.objects.get().title == "分层作业的实践"
    assert audits("cases.case.changed") == 0 and audits("cases.case.deleted") == 0
    with pytest.raises(PermissionDenied):
        services.cases_delete(actor=world.bureau, case_ids=[submitted.pk])
    assert Case.objects.exists()


def test_an_admin_delete_and_bulk_delete_are_audited(world, client_for, editor, submitted):
    second = services.case_submit(
        user=world.principal_a,
        title="第二个案例",
        themes=["作业管理"],
        body=BODY + "另一所学校的做法。",
    )
    c = client_for(editor)
    response = c.post(reverse("admin:cases_case_delete", args=[submitted.pk]), {"post": "yes"})
    assert response.status_code == 302
    response = c.post(
        reverse("admin:cases_case_changelist"),
        {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Case.objects.exists()
    logs = AuditLog.objects.filter(action="cases.case.deleted")
    assert sorted(int(log.object_id) for log in logs) == sorted([submitted.pk, second.pk])
    assert {log.actor for log in logs} == {editor}


# --- the admin's source documents: added only by the import ----------------------------------


@pytest.fixture
def document(db):
    return SourceDocument.objects.create(
        title="案例集", issuer="教育部", doc_number="教基厅函〔2021〕37号", original="原文",
        fingerprint="f" * 64,
    )  # fmt: skip


def document_form(document, **overrides):
    data = {
        "title": document.title, "issuer": document.issuer, "doc_number": document.doc_number,
        "date": "", "preface": "", "original": document.original, "filename": "",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_the_documents_add_page_leads_to_the_import(client_for, editor):
    response = client_for(editor).get(reverse("admin:cases_sourcedocument_add"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_sourcedocument_import")
    response = client_for(editor).post(reverse("admin:cases_sourcedocument_add"), {"title": "x"})
    assert response.status_code == 302 and not SourceDocument.objects.exists()


def test_a_document_correction_is_audited(client_for, editor, world, document):
    url = reverse("admin:cases_sourcedocument_change", args=[document.pk])
    assert (
        client_for(world.bureau).post(url, document_form(document, title="改")).status_code == 403
    )
    assert audits("cases.document.changed") == 0
    response = client_for(editor).post(url, document_form(document, issuer="教育部办公厅"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SourceDocument.objects.get().issuer == "教育部办公厅"
    log = AuditLog.objects.get(action="cases.document.changed")
    assert log.old == {"issuer": "教育部"} and log.new == {"issuer": "教育部办公厅"}


def test_a_document_delete_takes_its_cases_and_is_audited(client_for, editor, document):
    url = reverse("admin:cases_sourcedocument_delete", args=[document.pk])
    assert client_for(editor).post(url, {"post": "yes"}).status_code == 302
    assert not SourceDocument.objects.exists()
    assert AuditLog.objects.get(action="cases.document.deleted").actor == editor


# --- review and resubmission -----------------------------------------------------------------


def test_review_by_staff_of_another_line_is_refused_and_writes_nothing(
    world, client_for, editor, submitted
):
    url = reverse("cases:review", args=[submitted.pk])
    for user in (world.bureau, staff_of("课后服务", "as_staff")):
        assert client_for(user).post(url, {"to": "selected"}).status_code == 403
    assert Case.objects.get().status == Case.Status.SUBMITTED
    assert audits("cases.case.selected") == 0
    response = client_for(editor).post(url, {"to": "returned", "comment": ""})
    assert "退回时请填写审核意见" in response.content.decode()
    assert Case.objects.get().status == Case.Status.SUBMITTED
    assert client_for(editor).post(url, {"to": "selected"}).status_code == 302
    assert AuditLog.objects.get(action="cases.case.selected").actor == editor


def test_a_resubmission_after_the_case_moved_on_says_why(world, client_for, editor, submitted):
    services.case_review(actor=editor, case_id=submitted.pk, to="returned", comment="请补充")
    c = client_for(world.principal_a)
    url = reverse("cases:edit", args=[submitted.pk])
    page = c.get(url)  # the school opens the returned case ...
    assert page.status_code == 200
    # ... meanwhile it is sent back in by someone else of the school
    services.case_resubmit(
        user=world.principal_a, case_id=submitted.pk, title="改后", themes=["作业管理"], body=BODY
    )
    data = {"title": "再改", "themes": ["作业管理"], "body": BODY}
    response = c.post(url, data, follow=True)
    assert response.status_code == 200 and "只有被退回的案例可以修改" in response.content.decode()
    assert Case.objects.get().title == "改后"
    # and another school's principal never reaches it
    with pytest.raises(PermissionDenied):
        services.case_resubmit(
            user=world.principal_b, case_id=submitted.pk, title="x", themes=["作业管理"], body=BODY
        )
