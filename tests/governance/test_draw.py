"""阳光分班 (issue 18): the algorithm, the commitments, the journey's rules and refusals."""

import datetime as dt
import hashlib
import io
import json
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from openpyxl import Workbook

from governance import draw as draws
from governance.draw_models import Draw, DrawPupil
from portal.models import AuditLog
from tests.governance.draw_helpers import (
    drawn,
    due,
    entered,
    junior_school,
    published,
    pupils_text,
    soon,
)
from tests.post_routes import staff_of

pytestmark = pytest.mark.django_db
S = Draw.Status


def _doc(n=30, classes=4, bands=False, teachers=("甲", "乙", "丙", "丁")):
    pupils = [
        {"no": i + 1, "name": f"张*{i}", "gender": "F" if i < n // 2 else "M",
         "band": ("A", "B", "C")[i % 3] if bands else ""}
        for i in range(n)
    ]  # fmt: skip
    return {"algorithm": draws.ALGORITHM, "draw": 1, "school": "S1", "grade": 7, "year": 2026,
            "classes": classes, "bands": bands, "pupils": pupils,
            "teachers": sorted(teachers)}  # fmt: skip


def _counts(result, doc, key):
    of = {p["no"]: key(p) for p in doc["pupils"]}
    return [Counter(of[no] for no in c["pupils"]) for c in result["classes"]]


def _spread(result, doc, key):
    """For each value of ``key``: max - min of its count over the classes."""
    counts = _counts(result, doc, key)
    values = {v for c in counts for v in c}
    return {v: max(c[v] for c in counts) - min(c[v] for c in counts) for v in values}


# --- the algorithm ------------------------------------------------------------------------------


def test_the_same_seed_and_list_give_the_same_classes():
    doc, seed = _doc(), "ab" * 32
    assert draws.assign(seed, doc) == draws.assign(seed, json.loads(json.dumps(doc)))


def test_another_seed_gives_other_classes():
    doc = _doc()
    assert draws.assign("ab" * 32, doc) != draws.assign("ac" * 32, doc)


def test_a_known_seed_gives_the_published_classes():
    # a fixed vector: any implementation of sunshine-draw/1 must give exactly this (the
    # verification script is checked against it too)
    doc = _doc(n=8, classes=2, teachers=("甲", "乙"))
    assert draws.assign("00" * 32, doc) == {"classes": [
        {"class": 1, "teacher": "乙", "pupils": [3, 4, 6, 7]},
        {"class": 2, "teacher": "甲", "pupils": [1, 2, 5, 8]},
    ]}  # fmt: skip


def test_the_stream_is_hmac_sha256_of_the_counter():
    import hmac

    stream = draws.Stream(b"\x01" * 32)
    block = hmac.new(b"\x01" * 32, (0).to_bytes(8, "big"), hashlib.sha256).digest()
    assert stream.uniform(2**63) == int.from_bytes(block[:8], "big") % 2**63
    assert stream.counter == 1


@pytest.mark.parametrize("seed", [f"{i:064x}" for i in range(1, 41)])
def test_every_class_is_within_one_per_gender_and_per_stratum(seed):
    doc = _doc(n=53, classes=5, bands=True, teachers=())
    result = draws.assign(seed, doc)
    sizes = [len(c["pupils"]) for c in result["classes"]]
    assert max(sizes) - min(sizes) <= 1
    assert max(_spread(result, doc, lambda p: p["gender"]).values()) <= 1
    assert max(_spread(result, doc, lambda p: (p["gender"], p["band"])).values()) <= 1
    # a band across both genders: at most 2 (documented)
    assert max(_spread(result, doc, lambda p: p["band"]).values()) <= 2
    assert sorted(no for c in result["classes"] for no in c["pupils"]) == list(range(1, 54))


def test_the_head_teachers_are_each_drawn_to_one_class():
    doc = _doc(teachers=("甲", "乙", "丙", "丁"))
    result = draws.assign("cd" * 32, doc)
    assert sorted(c["teacher"] for c in result["classes"]) == ["丁", "丙", "乙", "甲"]


def test_names_are_masked_on_public_pages():
    assert draws.mask("张小明") == "张*明"
    assert draws.mask("李明") == "李*"
    assert draws.mask("欧阳娜娜") == "欧**娜"
    assert draws.mask("王") == "*"


# --- the journey's services ---------------------------------------------------------------------


def test_publishing_commits_to_the_seed_and_the_canonical_input(world):
    draw = published(world.principal_a, world.bureau)
    assert draw.status == S.PUBLISHED
    assert draw.seed_sha256 == hashlib.sha256(bytes.fromhex(draw.seed)).hexdigest()
    doc = json.loads(draw.document)
    assert draw.input_sha256 == hashlib.sha256(draws.canonical(doc)).hexdigest()
    assert all("*" in p["name"] for p in doc["pupils"])
    assert [p["no"] for p in doc["pupils"]] == list(range(1, 41))
    # numbered by (gender, name): the girls first
    genders = [p["gender"] for p in doc["pupils"]]
    assert genders == sorted(genders)
    audit = AuditLog.objects.get(action="governance.draw.published")
    assert draw.seed not in json.dumps(audit.new)  # only the commitment is audited


def test_the_seed_stays_secret_until_the_draw(world, client):
    draw = published(world.principal_a, world.bureau)
    page = client.get(f"/draw/{draw.pk}/").content.decode()
    data = client.get(f"/draw/{draw.pk}/draw.json").json()
    assert draw.seed not in page and data["seed"] is None and data["result"] is None
    assert data["commitment"]["seed_sha256"] == draw.seed_sha256


def test_running_reveals_the_seed_and_the_classes_are_its_function(world):
    draw = drawn(world.principal_a, world.bureau)
    assert draw.status == S.DRAWN
    assert draw.result == draws.assign(draw.seed, json.loads(draw.document))
    by_class = Counter(DrawPupil.objects.filter(draw=draw).values_list("class_number", flat=True))
    assert sorted(by_class.values()) == [10, 10, 10, 10]
    assert AuditLog.objects.filter(action="governance.draw.drawn", object_id=str(draw.pk)).exists()


def test_a_run_draw_cannot_be_run_again(world):
    draw = drawn(world.principal_a, world.bureau)
    result = draw.result
    with pytest.raises(ValidationError, match="不能重新抽签"):
        draws.draw_run(actor=world.principal_a, draw_id=draw.pk)
    draw.refresh_from_db()
    assert draw.result == result
    assert AuditLog.objects.filter(action="governance.draw.drawn").count() == 1


def test_the_draw_waits_for_its_time(world):
    draw = published(world.principal_a, world.bureau)
    with pytest.raises(ValidationError, match="未到抽签时间"):
        draws.draw_run(actor=world.principal_a, draw_id=draw.pk, now=draw.scheduled_at
                       - dt.timedelta(seconds=1))  # fmt: skip
    # at the very minute: allowed
    draws.draw_run(actor=world.principal_a, draw_id=draw.pk, now=draw.scheduled_at)


def test_a_draft_cannot_be_run_before_the_bureau_publishes(world):
    draw = entered(world.principal_a)
    with pytest.raises(ValidationError, match="尚未公布承诺"):
        draws.draw_run(actor=world.principal_a, draw_id=draw.pk, now=soon(600))


def test_the_commitment_cannot_be_published_for_a_time_already_past(world):
    draw = entered(world.principal_a)
    with pytest.raises(ValidationError) as exc:
        draws.draw_publish(actor=world.bureau, draw_id=draw.pk, scheduled_at=soon(-1))
    assert "抽签时间不能早于现在" in str(exc.value.message_dict["scheduled_at"])


def test_the_list_is_fixed_once_published(world):
    draw = published(world.principal_a, world.bureau)
    with pytest.raises(ValidationError, match="不能再改"):
        draws.draw_set_lists(actor=world.principal_a, draw_id=draw.pk, class_count=4,
                             pupils_text=pupils_text(40))  # fmt: skip
    with pytest.raises(ValidationError, match="不能再次公布"):
        draws.draw_publish(actor=world.bureau, draw_id=draw.pk, scheduled_at=soon())


def test_the_bureaus_redraw_supersedes_the_first_visibly_and_is_audited(world, client):
    first = drawn(world.principal_a, world.bureau)
    with pytest.raises(ValidationError):
        draws.draw_redraw(actor=world.bureau, draw_id=first.pk, reason="")
    new = draws.draw_redraw(actor=world.bureau, draw_id=first.pk, reason="名单漏录两名学生")
    first.refresh_from_db()
    assert first.status == S.SUPERSEDED and first.redraw_reason == "名单漏录两名学生"
    assert new.supersedes_id == first.pk and new.status == S.DRAFT
    assert new.pupils.count() == 40 and new.teachers == first.teachers
    audit = AuditLog.objects.get(action="governance.draw.superseded")
    assert audit.new["reason"] == "名单漏录两名学生" and audit.new["new_draw"] == new.pk
    # the first stays public, marked, with its seed and result still checkable
    page = client.get(f"/draw/{first.pk}/").content.decode()
    assert "已由教育局决定作废" in page or "本次分班已由教育局决定作废" in page
    assert "名单漏录两名学生" in page and first.seed in page
    data = client.get(f"/draw/{first.pk}/draw.json").json()
    assert data["superseded"]["reason"] == "名单漏录两名学生"


def test_only_the_bureau_decides_a_redraw(world):
    first = drawn(world.principal_a, world.bureau)
    with pytest.raises(PermissionDenied):
        draws.draw_redraw(actor=world.principal_a, draw_id=first.pk, reason="学校想重抽")
    assert Draw.objects.get(pk=first.pk).status == S.DRAWN


def test_a_second_live_draw_of_the_same_intake_is_refused(world):
    entered(world.principal_a)
    with pytest.raises(ValidationError, match="已有分班"):
        draws.draw_create(actor=world.principal_a, grade=1, year=2026, class_count=3,
                          scheduled_at=soon())  # fmt: skip


def test_the_database_refuses_a_second_live_draw_too(world):
    draw = entered(world.principal_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Draw.objects.create(school=draw.school, grade=1, year=2026, class_count=2,
                            scheduled_at=soon(), created_by=world.principal_a)  # fmt: skip


# --- bands: grade 7 only, where the bureau allows ------------------------------------------------


def test_grade_7_bands_count_when_the_bureau_allows(world):
    school, principal = junior_school(world.school_a.district)
    draw = published(principal, world.bureau, grade=7, n=60, classes=4, bands="ABC",
                     allow_bands=True)  # fmt: skip
    doc = json.loads(draw.document)
    assert doc["bands"] is True and {p["band"] for p in doc["pupils"]} == {"A", "B", "C"}
    draw = draws.draw_run(actor=principal, draw_id=due(draw).pk)
    spread = _spread(draw.result, doc, lambda p: (p["gender"], p["band"]))
    assert max(spread.values()) <= 1


def test_grade_7_bands_are_ignored_without_the_bureaus_leave(world):
    school, principal = junior_school(world.school_a.district)
    draw = published(principal, world.bureau, grade=7, n=20, classes=2, bands="AB",
                     teachers=())  # fmt: skip
    doc = json.loads(draw.document)
    assert doc["bands"] is False and {p["band"] for p in doc["pupils"]} == {""}


def test_the_setting_allows_bands_for_every_grade_7_draw(world, settings):
    settings.PORTAL_DRAW_BANDS_ALLOWED = True
    school, principal = junior_school(world.school_a.district)
    draw = published(principal, world.bureau, grade=7, n=20, classes=2, bands="AB",
                     teachers=())  # fmt: skip
    assert json.loads(draw.document)["bands"] is True


def test_bands_need_every_pupil_banded(world):
    school, principal = junior_school(world.school_a.district)
    draw = entered(principal, grade=7, n=6, classes=2, teachers=(), bands="")
    text = pupils_text(6, bands="AB").splitlines()
    text[2] = text[2].rsplit(",", 1)[0]  # row 3 without its band
    draws.draw_set_lists(actor=principal, draw_id=draw.pk, class_count=2,
                         pupils_text="\n".join(text))  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        draws.draw_publish(actor=world.bureau, draw_id=draw.pk, scheduled_at=soon(),
                           allow_bands=True)  # fmt: skip
    assert "第3行缺少分层" in exc.value.message_dict["allow_bands"][0]


def test_grade_1_never_takes_bands(world):
    draw = entered(world.principal_a)
    with pytest.raises(ValidationError) as exc:
        draws.draw_set_lists(actor=world.principal_a, draw_id=draw.pk, class_count=2,
                             pupils_text="张三丰,男,A\n李四,女,B")  # fmt: skip
    assert "第1行：一年级分班不按分层" in " ".join(exc.value.message_dict["pupils"])
    with pytest.raises(ValidationError, match="只有七年级"):
        draws.draw_publish(actor=world.bureau, draw_id=draw.pk, scheduled_at=soon(),
                           allow_bands=True)  # fmt: skip


# --- bad input, named --------------------------------------------------------------------------


def _set(world, text, classes=2, teachers=""):
    draw = Draw.objects.filter(school=world.school_a).first() or entered(world.principal_a)
    before = list(draw.pupils.values_list("name", flat=True))
    with pytest.raises(ValidationError) as exc:
        draws.draw_set_lists(actor=world.principal_a, draw_id=draw.pk, class_count=classes,
                             pupils_text=text, teachers_text=teachers)  # fmt: skip
    assert list(draw.pupils.values_list("name", flat=True)) == before  # nothing imported
    return exc.value.message_dict


def test_an_empty_list_is_refused(world):
    assert "名单为空" in _set(world, "  \n\n")["pupils"][0]


def test_duplicate_rows_are_named(world):
    errors = _set(world, "王芳,女\n李明,男\n王芳,女")["pupils"]
    assert any("第3行与第1行重复（王芳，女）" in e for e in errors)


def test_an_unknown_gender_is_named(world):
    errors = _set(world, "王芳,女\n李明,未知")["pupils"]
    assert "第2行：性别“未知”无法识别，应填“男”或“女”。" in errors


def test_an_id_number_is_refused(world):
    errors = _set(world, "王芳,女,110101201901011234\n李明,男")["pupils"]
    assert any("第1行：不得录入身份证号" in e for e in errors)


def test_more_classes_than_pupils_is_refused(world):
    errors = _set(world, "王芳,女\n李明,男\n赵雷,男", classes=4)
    assert errors["class_count"] == ["班级数（4）多于学生数（3）：每班至少要有一名学生。"]


def test_classes_over_the_standard_size_are_refused_at_the_boundary(world, settings):
    settings.PORTAL_DRAW_CLASS_SIZE_MAX_GRADE_1 = 10
    draw = entered(world.principal_a, n=20, classes=2, teachers=())  # 10 a class: allowed
    errors = _set(world, pupils_text(21), classes=2)
    assert "超过标准班额 10 人：至少需要 3 个班" in errors["class_count"][0]
    assert draw.pupils.count() == 20


def test_head_teachers_must_match_the_classes(world):
    errors = _set(world, pupils_text(10), classes=2, teachers="李老师\n王老师\n赵老师")
    assert "班主任人数（3）应与班级数（2）相同" in errors["teachers"][0]


def test_every_bad_row_is_named_at_once(world):
    errors = _set(world, "王芳,女\n,男\n李明\n赵雷,男,A,多余")["pupils"]
    assert errors[0] == "名单有误，未导入任何学生。"
    assert "第2行：缺少姓名。" in errors and "第3行：缺少性别（填“男”或“女”）。" in errors
    assert any(e.startswith("第4行：列数过多") for e in errors)


def test_an_excel_file_is_read(world):
    draw = entered(world.principal_a)
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "性别"])
    for line in pupils_text(12).splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    draws.draw_set_lists(actor=world.principal_a, draw_id=draw.pk, class_count=3,
                         pupils_file=buffer.getvalue())  # fmt: skip
    assert draw.pupils.count() == 12


def test_a_csv_file_in_gb18030_is_read_and_a_bad_row_named(world):
    draw = entered(world.principal_a)
    data = "姓名,性别\n王芳,女\n李明,男\n赵雷,男\n".encode("gb18030")
    draws.draw_set_lists(actor=world.principal_a, draw_id=draw.pk, class_count=3,
                         pupils_file=data)  # fmt: skip
    assert set(draw.pupils.values_list("name", flat=True)) == {"王芳", "李明", "赵雷"}
    with pytest.raises(ValidationError) as exc:
        draws.draw_set_lists(actor=world.principal_a, draw_id=draw.pk, class_count=2,
                             pupils_file="姓名,性别\n王芳,女\n李明,x\n".encode())  # fmt: skip
    assert "第3行：性别“x”无法识别，应填“男”或“女”。" in exc.value.message_dict["pupils"]
    assert draw.pupils.count() == 3


def test_a_file_that_is_not_a_list_is_refused(world):
    draw = entered(world.principal_a)
    with pytest.raises(ValidationError) as exc:
        draws.draw_set_lists(actor=world.principal_a, draw_id=draw.pk, class_count=2,
                             pupils_file=b"PK\x03\x04 not a workbook")  # fmt: skip
    assert "无法读取该 Excel 文件" in exc.value.message_dict["file"][0]


def test_a_school_cannot_draw_a_grade_it_does_not_teach(world):
    with pytest.raises(ValidationError) as exc:
        draws.draw_create(actor=world.principal_a, grade=7, year=2026, class_count=3,
                          scheduled_at=soon())  # fmt: skip
    assert "没有七年级" in exc.value.message_dict["grade"][0]
    with pytest.raises(ValidationError) as exc:
        draws.draw_create(actor=world.principal_a, grade=3, year=2026, class_count=3,
                          scheduled_at=soon())  # fmt: skip
    assert "一年级或七年级" in exc.value.message_dict["grade"][0]


# --- who sees what ------------------------------------------------------------------------------


def test_another_schools_draw_is_a_404(world, client_for):
    draw = drawn(world.principal_a, world.bureau)
    client = client_for(world.principal_b)
    for url in (f"/draw/staff/{draw.pk}/", f"/draw/staff/{draw.pk}/lists/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/draw/staff/{draw.pk}/run/").status_code == 404


@pytest.mark.parametrize("who", ["teacher_a", "parent_a"])
def test_teachers_and_parents_are_refused_the_unmasked_list(world, client_for, who):
    draw = drawn(world.principal_a, world.bureau)
    client = client_for(getattr(world, who))
    assert client.get("/draw/staff/").status_code == 403
    assert client.get(f"/draw/staff/{draw.pk}/").status_code == 403


def test_bureau_staff_of_another_line_are_refused(world, client_for):
    draw = drawn(world.principal_a, world.bureau)
    client = client_for(staff_of("课后服务", "as_staff"))
    assert client.get(f"/draw/staff/{draw.pk}/").status_code == 403
    assert client.post(f"/draw/staff/{draw.pk}/redraw/", {"reason": "重新来过"}).status_code == 403


def test_the_public_page_shows_masked_names_only(world, client_for):
    draw = drawn(world.principal_a, world.bureau)
    names = list(draw.pupils.values_list("name", flat=True))
    for user in (None, world.parent_a):
        response = client_for(user).get(f"/draw/{draw.pk}/")
        page = response.content.decode()
        assert response.status_code == 200
        assert not any(name in page for name in names)
        assert draws.mask(names[0]) in page and draw.seed in page
        data = client_for(user).get(f"/draw/{draw.pk}/draw.json").content.decode()
        assert not any(name in data for name in names)


def test_the_staff_see_the_unmasked_classes(world, client_for):
    draw = drawn(world.principal_a, world.bureau)
    name = draw.pupils.first().name
    for user in (world.principal_a, world.bureau):
        page = client_for(user).get(f"/draw/staff/{draw.pk}/").content.decode()
        assert name in page


def test_a_draft_is_not_public(world, client):
    draw = entered(world.principal_a)
    assert client.get(f"/draw/{draw.pk}/").status_code == 404
    assert client.get(f"/draw/{draw.pk}/draw.json").status_code == 404
    assert str(draw) not in client.get("/draw/").content.decode()


def test_the_staff_list_costs_the_same_for_many_draws(world, client_for,
                                                     django_assert_max_num_queries):  # fmt: skip
    for year in range(2020, 2026):
        entered(world.principal_a, year=year, n=6, classes=2, teachers=())
    client = client_for(world.bureau)
    with django_assert_max_num_queries(12):
        assert client.get("/draw/staff/").status_code == 200


# --- the nightly check and the panel ------------------------------------------------------------


def test_a_draw_published_but_not_run_after_its_day_is_a_finding(world, settings):
    from governance.draw_checks import draw_not_run

    settings.PORTAL_DRAW_RUN_GRACE_DAYS = 1
    draw = published(world.principal_a, world.bureau)
    day = draws.local_date(draw.scheduled_at)
    assert list(draw_not_run(day + dt.timedelta(days=1))) == []  # within the grace
    found = list(draw_not_run(day + dt.timedelta(days=2)))
    assert [f.subject for f in found] == [draw] and found[0].school == world.school_a
    draws.draw_run(actor=world.principal_a, draw_id=due(draw).pk)
    assert list(draw_not_run(day + dt.timedelta(days=2))) == []


def test_the_panel_counts_draws_per_school(world, django_assert_num_queries):
    from governance.draw_dashboard import draws_per_school
    from portal.dashboard import Filters

    drawn(world.principal_a, world.bureau)
    entered(world.principal_b)
    with django_assert_num_queries(1):
        p = draws_per_school(Filters(district=world.school_a.district, month="2026-09"))
    assert [s.label for s in p.series] == ["录入名单", "已公布承诺", "已抽签"]
    drawn_bars = {b.label: b.value for b in p.series[2].bars}
    assert drawn_bars == {"甲小学": 1, "乙小学": 0}


def test_the_dashboard_shows_the_panel(world, client_for):
    drawn(world.principal_a, world.bureau)
    page = client_for(world.bureau).get("/dashboard/").content.decode()
    assert "阳光分班（按学校）" in page


def test_the_staff_pages_answer(world, client_for):
    draw = entered(world.principal_a)
    school = client_for(world.principal_a)
    for url in ("/draw/staff/", "/draw/staff/new/", f"/draw/staff/{draw.pk}/lists/"):
        assert school.get(url).status_code == 200, url
    lists = school.get(f"/draw/staff/{draw.pk}/lists/").content.decode()
    assert "王伟子,女" in lists  # the list entered comes back for editing
    bureau = client_for(world.bureau).get(f"/draw/staff/{draw.pk}/").content.decode()
    assert "公布承诺" in bureau and "开始抽签" not in bureau
    assert client_for(None).get("/draw/").status_code == 200
