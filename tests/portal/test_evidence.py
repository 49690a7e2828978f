"""Findings answered with evidence: files checked by content, stored at a random path,
hashed, served only to who may see the finding; one bad file refuses the whole answer; an
assigned finding closes unanswered only with a reason."""

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from institutions.models import Institution
from portal import findings
from portal.models import AuditLog, Finding, FindingEvidence, FindingStep
from tests.factories import UserFactory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


def upload(name, data, content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(root) -> list:
    base = Path(root) / "evidence"
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def handler(db):
    user = UserFactory(username="handler", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


@pytest.fixture
def assigned(world, handler):
    today = timezone.localdate()
    f = Finding.objects.create(
        rule="afterschool.provider.review_overdue", severity="warning", subject_key="p:1",
        subject_repr="星火体育", message="星火体育年审逾期", first_seen=today, last_seen=today,
    )  # fmt: skip
    return findings.finding_assign(actor=handler, finding_id=f.pk, school_id=world.school_a.pk)


@pytest.mark.django_db(transaction=True)
def test_a_principal_answers_with_a_pdf_a_png_and_a_jpg(world, assigned, media, client_for):
    c = client_for(world.principal_a)
    files = [upload("通知.pdf", PDF), upload("现场.png", PNG, "image/png"),
             upload("照片.jpg", JPG, "image/jpeg")]  # fmt: skip
    r = c.post(
        reverse("portal:finding_detail", args=[assigned.pk]),
        {"answer": "已暂停合作", "files": files},
    )
    assert r.status_code == 302
    rows = {e.name: e for e in FindingEvidence.objects.filter(finding=assigned)}
    assert set(rows) == {"通知.pdf", "现场.png", "照片.jpg"}
    assert {e.kind for e in rows.values()} == {"pdf", "png", "jpg"}
    assert rows["通知.pdf"].sha256 == hashlib.sha256(PDF).hexdigest()
    assert rows["通知.pdf"].size == len(PDF)
    on_disk = stored_files(media)
    assert len(on_disk) == 3
    for path in on_disk:  # a random path: neither the name nor the finding shows in it
        assert "通知" not in str(path) and f"/{assigned.pk}/" not in str(path)
        assert len(path.stem) == 32
    assigned.refresh_from_db()
    assert assigned.workflow == "answered" and assigned.answer == "已暂停合作"
    audit = AuditLog.objects.get(action="portal.finding.answered")
    assert {e["sha256"] for e in audit.new["evidence"]} == {e.sha256 for e in rows.values()}


@pytest.mark.django_db(transaction=True)
def test_the_file_is_served_only_to_who_may_see_the_finding(
    world, assigned, media, client_for, handler
):
    findings.finding_answer(
        actor=world.principal_a, finding_id=assigned.pk, answer="已整改",
        files=[upload("通知.pdf", PDF)],
    )  # fmt: skip
    e = FindingEvidence.objects.get()
    url = reverse("portal:evidence", args=[e.pk])
    for user in (world.principal_a, world.teacher_a, handler):
        r = client_for(user).get(url)
        assert r.status_code == 200
        assert b"".join(r.streaming_content) == PDF
        assert r["Content-Type"] == "application/pdf"
        assert r["Content-Disposition"].startswith("attachment")
        assert "no-store" in r["Cache-Control"]
    assert client_for(world.principal_b).get(url).status_code == 404  # another school
    assert client_for(world.parent_a).get(url).status_code == 403
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    # and no public URL: MEDIA is not served
    relative = f"/media/evidence/{e.path}"
    assert client_for(world.principal_a).get(relative).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_text_file_named_pdf_refuses_the_whole_answer(world, assigned, media, client_for):
    c = client_for(world.principal_a)
    r = c.post(
        reverse("portal:finding_detail", args=[assigned.pk]),
        {"answer": "已整改", "files": [upload("现场.png", PNG, "image/png"),
                                        upload("通知.pdf", b"just some text, not a pdf")]},
    )  # fmt: skip
    assert r.status_code == 200
    html = r.content.decode()
    assert "通知.pdf" in html and "不是 PDF、JPG 或 PNG 文件" in html
    assert "已整改" in html  # what was typed is kept
    assert not FindingEvidence.objects.exists() and stored_files(media) == []
    assigned.refresh_from_db()
    assert assigned.workflow == "assigned" and assigned.answer == ""
    assert not FindingStep.objects.filter(action="answered").exists()
    assert not AuditLog.objects.filter(action="portal.finding.answered").exists()


@pytest.mark.django_db
def test_the_size_limit_is_inclusive(world, assigned, media, settings):
    settings.PORTAL_EVIDENCE_MAX_BYTES = 64
    exact = PDF + b"%" * (64 - len(PDF))
    with pytest.raises(ValidationError) as exc:
        findings.finding_answer(
            actor=world.principal_a, finding_id=assigned.pk, answer="x",
            files=[upload("大.pdf", exact + b"%")],
        )  # fmt: skip
    assert "文件“大.pdf”超过大小上限" in " ".join(exc.value.messages)
    assert not FindingEvidence.objects.exists() and stored_files(media) == []
    findings.finding_answer(
        actor=world.principal_a, finding_id=assigned.pk, answer="x",
        files=[upload("刚好.pdf", exact)],
    )  # fmt: skip
    assert FindingEvidence.objects.get().size == 64


@pytest.mark.django_db
def test_files_written_by_a_rolled_back_answer_are_removed(world, assigned, media, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(findings, "audit_record", broken)
    with pytest.raises(RuntimeError):
        findings.finding_answer(
            actor=world.principal_a, finding_id=assigned.pk, answer="x",
            files=[upload("通知.pdf", PDF)],
        )  # fmt: skip
    assert stored_files(media) == [] and not FindingEvidence.objects.exists()


@pytest.mark.django_db
def test_staff_answer_for_an_institution_but_not_for_a_school(world, handler, media):
    today = timezone.localdate()
    f = Finding.objects.create(
        rule="afterschool.x", severity="info", subject_key="i:7", subject_repr="某机构",
        message="m", first_seen=today, last_seen=today,
    )  # fmt: skip
    # an existing institution: portal.findings assigns to no other
    inst = Institution.objects.create(
        name="某机构", credit_code="91440100MAEVIDENC1", category="subject", mode="offline",
        nature="non_profit", district=world.school_a.district,
    )  # fmt: skip
    findings.finding_assign(actor=handler, finding_id=f.pk, institution_id=inst.pk)
    findings.finding_answer(
        actor=handler, finding_id=f.pk, answer="机构已寄来整改报告",
        files=[upload("报告.pdf", PDF)],
    )  # fmt: skip
    f.refresh_from_db()
    assert f.workflow == "answered" and f.evidence.count() == 1


@pytest.mark.django_db
def test_an_assigned_unanswered_finding_closes_only_without_answer_and_a_reason(
    world, assigned, handler
):
    with pytest.raises(ValidationError, match="未反馈办结"):
        findings.finding_close(actor=handler, finding_id=assigned.pk, note="算了")
    with pytest.raises(ValidationError, match="说明理由"):
        findings.finding_close_unanswered(actor=handler, finding_id=assigned.pk, reason=" ")
    assigned.refresh_from_db()
    assert assigned.workflow == "assigned"
    findings.finding_close_unanswered(
        actor=handler, finding_id=assigned.pk, reason="学校已撤并，无法反馈"
    )
    assigned.refresh_from_db()
    assert assigned.workflow == "closed"
    audit = AuditLog.objects.get(action="portal.finding.closed_unanswered")
    assert audit.new["note"] == "学校已撤并，无法反馈" and audit.actor == handler
    assert assigned.steps.last().action == "closed_unanswered"


@pytest.mark.django_db
def test_close_without_answer_is_only_for_an_assigned_finding(world, handler):
    today = timezone.localdate()
    f = Finding.objects.create(
        rule="afterschool.r", severity="info", subject_key="k", message="m", first_seen=today,
        last_seen=today,
    )  # fmt: skip
    with pytest.raises(ValidationError):
        findings.finding_close_unanswered(actor=handler, finding_id=f.pk, reason="x")
    findings.finding_close(actor=handler, finding_id=f.pk, note="无需处理")  # new: fine
    f.refresh_from_db()
    assert f.workflow == "closed"


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_refuses_a_plain_close_and_asks_a_reason(
    world, assigned, handler, client_for
):
    c = client_for(handler)
    url = reverse("dashboard:finding", args=[assigned.pk])
    r = c.post(url, {"action": "close", "note": "办结"})
    assert r.status_code == 200 and "未反馈办结" in r.content.decode()
    r = c.post(url, {"action": "close_unanswered", "note": ""})
    assert r.status_code == 200 and "未反馈办结时请说明理由" in r.content.decode()
    assigned.refresh_from_db()
    assert assigned.workflow == "assigned"
    assert c.post(url, {"action": "close_unanswered", "note": "逾期未报"}).status_code == 302
    assigned.refresh_from_db()
    assert assigned.workflow == "closed"
    assert AuditLog.objects.filter(action="portal.finding.closed_unanswered").count() == 1
