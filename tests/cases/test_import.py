import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from cases.models import Case, SourceDocument
from cases.services import NotACollection, decode_upload, document_import
from portal.models import AuditLog
from tests.cases.conftest import SEED_FILES, SEEDS, seed_text

pytestmark = pytest.mark.django_db

EXPECTED = {"guangzhou-batch2.txt": 32, "yunnan-batch6.txt": 25, "moe-2021-37.txt": 10}


@pytest.mark.parametrize("name", SEED_FILES)
def test_every_character_lands_in_one_case_or_the_preface(name):
    text = seed_text(name)
    result = document_import(text=text, filename=name)
    document = SourceDocument.objects.get(pk=result.document.pk)
    assert document.original == text.replace("\r\n", "\n")
    pieces = [(c.start, c.end, c.raw) for c in document.cases.all()]
    pieces += [(a, b, document.original[a:b]) for a, b in document.preface_spans]
    pieces.sort()
    position = 0
    for start, end, piece in pieces:
        assert start == position, f"gap or overlap at {position}"
        assert document.original[start:end] == piece
        position = end
    assert position == len(document.original)
    assert "".join(p for _, _, p in pieces) == document.original
    assert document.preface == "".join(document.original[a:b] for a, b in document.preface_spans)


@pytest.mark.parametrize("name, count", EXPECTED.items())
def test_one_case_per_numbered_item(name, count):
    result = document_import(text=seed_text(name), filename=name)
    assert result.created and result.cases == count
    positions = list(result.document.cases.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, count + 1))
    assert all(c.status == Case.Status.PUBLISHED for c in result.document.cases.all())


def test_titles_places_and_themes_come_from_the_headings(seeded):
    case = Case.objects.get(source__filename="guangzhou-batch2.txt", position=2)
    assert case.title == "实行校外培训机构预收费全额资金监管"
    assert (case.city, case.district) == ("广州市", "从化区")
    assert case.themes == ["校外培训治理"] and case.theme_source == "section"
    moe = SourceDocument.objects.get(filename="moe-2021-37.txt")
    assert moe.doc_number == "教基厅函〔2021〕37号"
    assert moe.cases.get(position=5).published_on.isoformat() == "2021-09-17"


def test_reimporting_the_same_file_changes_nothing(seeded):
    before = (SourceDocument.objects.count(), Case.objects.count(), AuditLog.objects.count())
    again = document_import(text=seed_text("moe-2021-37.txt"), filename="again.txt")
    assert not again.created
    after = (SourceDocument.objects.count(), Case.objects.count(), AuditLog.objects.count())
    assert before == after


def test_a_notice_that_is_not_a_collection_is_refused_and_nothing_is_imported():
    notice = "关于做好2026年寒假工作的通知\n\n各学校：\n\n请做好安全教育，按时放假。\n\n区教育局\n"
    with pytest.raises(NotACollection):
        document_import(text=notice)
    assert not SourceDocument.objects.exists() and not Case.objects.exists()


def test_the_command_imports_and_refuses_with_a_chinese_message(tmp_path, capsys):
    bad = tmp_path / "notice.txt"
    bad.write_text("不是案例集的一段文字。", encoding="utf-8")
    call_command("import_cases", str(SEEDS / "moe-2021-37.txt"))
    assert "10 个案例" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("import_cases", str(bad))
    err = capsys.readouterr().err
    assert "notice.txt: 未导入" in err
    assert SourceDocument.objects.count() == 1


def test_gb18030_files_are_read():
    text = seed_text("moe-2021-37.txt")
    assert decode_upload(text.encode("gb18030")) == text
    assert decode_upload(b"\xef\xbb\xbf" + text.encode()) == text


def _upload(name, content: bytes):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_staff_upload_a_collection_in_the_admin(superuser, client):
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("admin:cases_sourcedocument_import")
    response = client.post(url, {"file": _upload("moe.txt", seed_text("moe-2021-37.txt").encode())})
    assert response.status_code == 302
    assert Case.objects.count() == 10
    assert AuditLog.objects.filter(action="cases.document.imported", actor=superuser).exists()


def test_a_bad_upload_is_refused_at_the_field(superuser, client):
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("admin:cases_sourcedocument_import")
    response = client.post(url, {"file": _upload("x.txt", "随便写的一句话。".encode())})
    assert response.status_code == 200
    assert "未导入" in response.content.decode()
    assert not SourceDocument.objects.exists()


def test_the_upload_refuses_who_may_not_import(world, client_for):
    url = reverse("admin:cases_sourcedocument_import")
    # bureau staff of another line of work: no permission on cases
    assert client_for(world.bureau).get(url).status_code == 403
    for user in (world.principal_a, world.parent_a, None):
        response = client_for(user).get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
