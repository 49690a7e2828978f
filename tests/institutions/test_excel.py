"""Bulk import of the register from the Excel template, and its export."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from institutions import excel, uscc
from institutions.models import AnnualReview, Institution, SupervisedAccount
from institutions.services import institution_register
from portal.models import AuditLog
from tests.factories import DistrictFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ISSUED = TODAY - dt.timedelta(days=365)
EXPIRES = TODAY + dt.timedelta(days=2 * 365)


def code(n: int) -> str:
    """A valid 统一社会信用代码, different for every n."""
    first17 = f"91350100MA{n:07d}"
    return first17 + uscc.check_character(first17)


def good_row(n: int, district="鼓楼区", **changes) -> list:
    row = {
        "name": f"第{n}培训中心",
        "credit_code": code(n),
        "category": "非学科类",
        "subjects": "体育、科技",
        "mode": "线下",
        "nature": "营利性",
        "address": f"鼓楼区示例路{n}号",
        "district": district,
        "scale": 120,
        "licence_number": f"教民1350100{n:06d}号",
        "licence_issued": ISSUED,
        "licence_expires": EXPIRES,
    }
    row.update(changes)
    return [row[field] for field, *_ in excel.COLUMNS]


def xlsx(rows, headers=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = excel.DATA_SHEET
    ws.append(excel.HEADERS if headers is None else headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(data: bytes, name="机构.xlsx"):
    return SimpleUploadedFile(name, data, content_type=excel.CONTENT_TYPE)


@pytest.fixture
def district(db):
    DistrictFactory(name="台江区")
    return DistrictFactory(name="鼓楼区")


@pytest.fixture
def training_staff(db):
    user = UserFactory(username="peixun", is_staff=True)
    user.groups.add(Group.objects.get(name="校外培训"))
    return user


def only_error(data):
    rows, errors = excel.parse(data)
    assert rows == []
    assert len(errors) == 1, errors
    return errors[0]


# --- the template ------------------------------------------------------------------------


def test_the_template_has_the_headers_lists_and_instructions(district):
    wb = load_workbook(io.BytesIO(excel.template_workbook()))
    ws = wb[excel.DATA_SHEET]
    assert wb.sheetnames[0] == excel.DATA_SHEET and excel.HELP_SHEET in wb.sheetnames
    assert [c.value for c in ws[1]] == excel.HEADERS
    lists = {
        str(dv.sqref)[0]: dv.formula1
        for dv in ws.data_validations.dataValidation
        if dv.type == "list"
    }
    assert set(lists) == {"C", "E", "F", "H"}  # 类别, 形式, 法人性质, 所在区
    options = wb[excel.OPTIONS_SHEET]
    assert options.sheet_state == "hidden"
    columns = {
        options.cell(row=1, column=c).value: [
            v for (v,) in options.iter_rows(min_row=2, min_col=c, max_col=c, values_only=True) if v
        ]
        for c in range(1, 5)
    }
    assert columns["类别"] == ["学科类", "非学科类"]
    assert columns["形式"] == ["线下", "线上"]
    assert columns["法人性质"] == ["营利性", "非营利性"]
    assert set(columns["所在区"]) >= {"鼓楼区", "台江区"}
    help_text = " ".join(
        str(v) for row in wb[excel.HELP_SHEET].iter_rows(values_only=True) for v in row if v
    )
    assert "不会导入任何数据" in help_text and "培训科目" in help_text


def test_the_template_downloads_and_parses_back(client_for, training_staff, district):
    response = client_for(training_staff).get(reverse("institutions:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert only_error(data) == (None, "", "文件中没有机构数据：请从第2行起每行填写一家机构。")

    # filled in, the downloaded template itself imports
    wb = load_workbook(io.BytesIO(data))
    wb[excel.DATA_SHEET].append(good_row(1))
    out = io.BytesIO()
    wb.save(out)
    rows, errors = excel.parse(out.getvalue())
    assert errors == [] and [r.row for r in rows] == [2]


# --- importing ---------------------------------------------------------------------------


def test_a_clean_file_imports_every_row_with_audit(client_for, training_staff, district):
    data = xlsx([good_row(1), good_row(2, category="学科类", subjects="语文、数学"), good_row(3)])
    response = client_for(training_staff).post(
        reverse("institutions:import"), {"file": upload(data)}, follow=True
    )
    assert "已导入 3 家机构" in response.content.decode()
    assert Institution.objects.count() == 3
    subject = Institution.objects.get(credit_code=code(2))
    assert subject.category == Institution.Category.SUBJECT
    assert subject.subjects == ["语文", "数学"]
    assert subject.governance == Institution.Governance.PENDING
    assert subject.district == district and subject.scale == 120
    assert subject.licence_issued == ISSUED and subject.licence_expires == EXPIRES
    registered = AuditLog.objects.filter(action="institutions.institution.registered")
    assert registered.count() == 3 and {a.actor for a in registered} == {training_staff}
    imported = AuditLog.objects.get(action="institutions.institution.imported")
    assert imported.new["count"] == 3 and imported.new["file"] == "机构.xlsx"


def test_one_bad_row_among_good_ones_imports_nothing(client_for, training_staff, district):
    data = xlsx([good_row(1), good_row(2, district="不存在区"), good_row(3)])
    rows, errors = excel.parse(data)
    assert rows == []
    assert errors == [(3, "所在区", "找不到名为“不存在区”的区，请从下拉列表中选择。")]

    client = client_for(training_staff)
    response = client.post(reverse("institutions:import"), {"file": upload(data)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "未导入任何数据" in page
    assert "第3行" in page and "所在区" in page and "找不到名为“不存在区”的区" in page
    assert Institution.objects.count() == 0
    assert not AuditLog.objects.filter(action__startswith="institutions.").exists()


CHECKS = {
    "bad check character": (
        {"credit_code": code(1)[:17] + ("0" if code(1)[17] != "0" else "1")},
        "统一社会信用代码",
        "统一社会信用代码校验位不正确",
    ),
    "disallowed character": ({"credit_code": "91350100MA000000I1"}, "统一社会信用代码", "I"),
    "code as a number": ({"credit_code": 913501001234567890}, "统一社会信用代码", "文本格式"),
    "unknown district": ({"district": "朝阳区"}, "所在区", "找不到名为“朝阳区”的区"),
    "bad date text": ({"licence_issued": "2024年13月1日"}, "发证日期", "不存在"),
    "not a date": ({"licence_expires": "明年"}, "有效期至", "不是日期"),
    "date as a plain number": ({"licence_expires": 45000}, "有效期至", "不是日期"),
    "missing name": ({"name": None}, "机构名称", "必填"),
    "blank category": ({"category": "  "}, "类别", "必填"),
    "missing expiry with a licence": ({"licence_expires": None}, "有效期至", "必须填写有效期至"),
    "dates without a licence": ({"licence_number": None}, "办学许可证号", "没有填写办学许可证号"),
    "expiry before issue": (
        {"licence_issued": dt.date(2024, 9, 1), "licence_expires": "2024-08-31"},
        "有效期至",
        "应晚于发证日期",
    ),
    "issued in the future": (
        {"licence_issued": TODAY + dt.timedelta(days=3)},
        "发证日期",
        "晚于今天",
    ),
    "bad category": ({"category": "学科"}, "类别", "应为“学科类”或“非学科类”"),
    "bad mode": ({"mode": "混合"}, "形式", "应为“线下”或“线上”"),
    "bad nature": ({"nature": "公益"}, "法人性质", "应为“营利性”或“非营利性”"),
    "unknown subject": ({"subjects": "体育、英语"}, "培训科目", "“英语”不是规定的培训科目"),
    "subject-type subject for non-subject": (
        {"subjects": "体育、数学"},
        "培训科目",
        "非学科类机构不能培训学科类科目“数学”",
    ),
    "non-subject subject for subject-type": (
        {"category": "学科类", "subjects": "语文、体育"},
        "培训科目",
        "学科类机构的培训科目只能是学科类科目，“体育”属于非学科类",
    ),
    "scale not an integer": ({"scale": "一百"}, "在训学员规模", "不是整数"),
    "scale fractional": ({"scale": 12.5}, "在训学员规模", "不是整数"),
    "scale negative": ({"scale": -3}, "在训学员规模", "负数"),
    "name too long": ({"name": "长" * 201}, "机构名称", "不能超过200个字"),
}


@pytest.mark.parametrize("changes, column, message", CHECKS.values(), ids=CHECKS.keys())
def test_each_bad_cell_is_reported_with_row_and_column(district, changes, column, message):
    rows, errors = excel.parse(xlsx([good_row(1), good_row(2, **changes)]))
    assert rows == []
    assert [(e.row, e.column) for e in errors] == [(3, column)], errors
    assert message in errors[0].message


def test_lenient_but_exact_cells_are_accepted(district):
    data = xlsx(
        [
            good_row(1, licence_issued="2023-09-01", licence_expires="2026/9/1", scale="80"),
            good_row(2, credit_code=" " + code(2).lower() + " ", scale=None, address=None),
            good_row(3, subjects="体育，科技、体育", licence_number=None,
                     licence_issued=None, licence_expires=None),
        ]
    )  # fmt: skip
    rows, errors = excel.parse(data)
    assert errors == []
    first, second, third = (r.data for r in rows)
    assert (first["licence_issued"], first["licence_expires"]) == (
        dt.date(2023, 9, 1),
        dt.date(2026, 9, 1),
    )
    assert first["scale"] == 80
    assert second["credit_code"] == code(2) and second["scale"] == 0 and second["address"] == ""
    assert third["subjects"] == ["体育", "科技"] and third["licence_expires"] is None


def test_a_duplicate_code_within_the_file_names_the_first_row(district):
    rows, errors = excel.parse(xlsx([good_row(1), good_row(2), good_row(3, credit_code=code(1))]))
    assert errors == [(4, "统一社会信用代码", f"统一社会信用代码 {code(1)} 与第2行重复。")]


def test_a_code_already_registered_is_refused(district, training_staff):
    register_one(training_staff, district, 2, name="已登记机构")
    rows, errors = excel.parse(xlsx([good_row(1), good_row(2)]))
    assert [(e.row, e.column) for e in errors] == [(3, "统一社会信用代码")]
    assert "已登记（已登记机构）" in errors[0].message


def test_several_problems_are_all_listed_in_row_order(district):
    data = xlsx([good_row(1, mode="x", district="y"), good_row(2), good_row(3, name=None)])
    rows, errors = excel.parse(data)
    assert [(e.row, e.column) for e in errors] == [(2, "形式"), (2, "所在区"), (4, "机构名称")]


def test_blank_rows_are_skipped_and_row_numbers_stay_as_excel_shows_them(district):
    rows, errors = excel.parse(xlsx([good_row(1), [None] * 12, good_row(2, district="无")]))
    assert [(e.row, e.column) for e in errors] == [(4, "所在区")]


WRONG_HEADERS = {
    "renamed": (excel.HEADERS[:2] + ["机构类别"] + excel.HEADERS[3:], "类别", "“机构类别”"),
    "missing column": (excel.HEADERS[:-1], "有效期至", "空白"),
    "swapped": (
        [excel.HEADERS[1], excel.HEADERS[0], *excel.HEADERS[2:]],
        "机构名称",
        "应为“机构名称”",
    ),
    "unknown extra column": (excel.HEADERS + ["备注"], "备注", "不是模板中的列"),
}


@pytest.mark.parametrize("headers, column, message", WRONG_HEADERS.values(), ids=WRONG_HEADERS)
def test_a_wrong_header_row_is_explained(district, headers, column, message):
    rows, errors = excel.parse(xlsx([good_row(1)], headers=headers))
    assert rows == []
    assert all(e.row == 1 for e in errors)
    assert any(e.column == column and message in e.message for e in errors), errors
    assert "列标题与导入模板不一致" in errors[-1].message


def test_a_file_without_any_header_is_explained(district):
    rows, errors = excel.parse(xlsx([good_row(1)], headers=[None] * 12))
    assert errors == [(1, "", "第1行没有列标题。请使用下载的导入模板，不要删除第1行的列标题。")]


def test_not_an_excel_file_is_explained(district):
    assert "不是 Excel（.xlsx）文件" in only_error("名称,代码\n甲,1\n".encode()).message
    assert "不是 Excel（.xlsx）文件" in only_error(b"PK\x03\x04 not really a zip").message
    assert ".xls" in only_error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100).message


def test_an_empty_file_is_explained(district):
    assert "空" in only_error(b"").message
    empty_sheet = io.BytesIO()
    Workbook().save(empty_sheet)
    assert "空" in only_error(empty_sheet.getvalue()).message
    assert "没有机构数据" in only_error(xlsx([])).message


def test_too_many_rows_or_bytes_are_refused(district, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 2)
    assert "超过 2 行" in only_error(xlsx([good_row(1), good_row(2), good_row(3)])).message
    monkeypatch.setattr(excel, "MAX_FILE_BYTES", 100)
    assert "文件过大" in only_error(xlsx([good_row(1)])).message


def test_not_an_excel_file_through_the_page(client_for, training_staff, district):
    response = client_for(training_staff).post(
        reverse("institutions:import"), {"file": upload(b"hello", name="a.txt")}
    )
    page = response.content.decode()
    assert "不是 Excel（.xlsx）文件" in page and "未导入任何数据" in page
    response = client_for(training_staff).post(reverse("institutions:import"), {})
    assert "请选择要上传的 Excel 文件" in response.content.decode()


def test_a_row_the_register_refuses_at_import_rolls_back_every_row(district, training_staff):
    rows, errors = excel.parse(xlsx([good_row(1), good_row(2), good_row(3)]))
    assert errors == []
    # registered by someone else between the check and the import
    register_one(training_staff, district, 3)
    before = AuditLog.objects.count()
    with pytest.raises(excel.ImportRejected) as refused:
        excel.import_rows(rows, training_staff)
    assert [(e.row, e.column) for e in refused.value.errors] == [(4, "统一社会信用代码")]
    assert "已登记" in refused.value.errors[0].message
    assert list(Institution.objects.values_list("credit_code", flat=True)) == [code(3)]
    assert AuditLog.objects.count() == before


# --- the export --------------------------------------------------------------------------


def register_one(actor, district, n, **changes):
    data = {
        "name": f"第{n}培训中心",
        "credit_code": code(n),
        "category": Institution.Category.NON_SUBJECT,
        "subjects": ["体育"],
        "mode": Institution.Mode.OFFLINE,
        "nature": Institution.Nature.FOR_PROFIT,
        "address": "",
        "district": district,
        "scale": 50,
        "licence_number": f"教民{n}",
        "licence_issued": ISSUED,
        "licence_expires": EXPIRES,
    }
    data.update(changes)
    return institution_register(actor=actor, **data)


def test_the_export_lists_the_register_with_colours(client_for, training_staff, district):
    white = register_one(training_staff, district, 1, name="白机构")
    SupervisedAccount.objects.create(
        institution=white, kind=SupervisedAccount.Kind.ESCROW, bank="某银行",
        account_name="白机构", account_number="6222000011112222",
    )  # fmt: skip
    AnnualReview.objects.create(
        institution=white, year=TODAY.year, result=AnnualReview.Result.PASSED, date=TODAY
    )
    register_one(training_staff, district, 2, name="灰机构")
    register_one(
        training_staff, district, 3, name="黑机构", category=Institution.Category.SUBJECT,
        subjects=["数学", "语文"], licence_number="", licence_issued=None, licence_expires=None,
    )  # fmt: skip

    response = client_for(training_staff).get(reverse("institutions:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.CONTENT_TYPE
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)))[excel.DATA_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == excel.EXPORT_HEADERS
    by_name = {r[0]: dict(zip(excel.EXPORT_HEADERS, r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {"白机构", "灰机构", "黑机构"}
    assert by_name["白机构"]["名单颜色"] == "白名单"
    assert by_name["灰机构"]["名单颜色"] == "灰名单"
    assert by_name["黑机构"]["名单颜色"] == "黑名单"
    black = by_name["黑机构"]
    assert black["类别"] == "学科类" and black["培训科目"] == "数学、语文"
    assert black["治理状态"] == "待治理" and black["所在区"] == "鼓楼区"
    assert by_name["白机构"]["有效期至"].date() == EXPIRES
    assert by_name["白机构"]["统一社会信用代码"] == code(1)
    assert AuditLog.objects.filter(action="institutions.register.exported").exists()


def test_an_exported_file_is_in_the_import_format(district, training_staff):
    register_one(training_staff, district, 1)
    register_one(training_staff, district, 2, name='=HYPERLINK("http://x")')
    data = excel.export_workbook(Institution.objects.all())
    ws = load_workbook(io.BytesIO(data))[excel.DATA_SHEET]
    assert ws["A2"].data_type == "s"  # a name is never written as a formula
    # read back, the only objection is that both institutions are registered already
    rows, errors = excel.parse(data)
    assert [(e.row, e.column) for e in errors] == [(2, "统一社会信用代码"), (3, "统一社会信用代码")]
    assert all("已登记" in e.message for e in errors)


# --- who may ------------------------------------------------------------------------------

URLS = ["institutions:import", "institutions:template", "institutions:export"]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["principal_a", "teacher_a", "parent_a", "bureau"])
def test_others_are_refused(world, client_for, url, who):
    response = client_for(getattr(world, who)).get(reverse(url))
    assert response.status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_anonymous_users_are_sent_to_login(client_for, url):
    response = client_for(None).get(reverse(url))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_refused_users_cannot_import(world, client_for, district):
    data = xlsx([good_row(1)])
    for user in (world.bureau, world.principal_a, None):
        response = client_for(user).post(reverse("institutions:import"), {"file": upload(data)})
        assert response.status_code in (302, 403)
    assert Institution.objects.count() == 0


def test_the_training_group_needs_staff_status(client_for):
    user = UserFactory(username="notstaff", is_staff=False)
    user.groups.add(Group.objects.get(name="校外培训"))
    assert client_for(user).get(reverse("institutions:import")).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_training_staff_and_superusers_may(client_for, training_staff, superuser, url):
    for user in (training_staff, superuser):
        assert client_for(user).get(reverse(url)).status_code == 200


def test_the_import_page_offers_the_template_and_the_form(client_for, training_staff):
    page = client_for(training_staff).get(reverse("institutions:import")).content.decode()
    assert reverse("institutions:template") in page and reverse("institutions:export") in page
    assert 'enctype="multipart/form-data"' in page and "Excel 文件（.xlsx）" in page
