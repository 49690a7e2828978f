import io

import pytest
from django.contrib.auth.models import Group
from openpyxl import Workbook

from institutions import excel, uscc
from institutions.models import Institution
from tests.factories import PASSWORD, DistrictFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _code(n: int) -> str:
    first17 = f"91350100MA{n:07d}"
    return first17 + uscc.check_character(first17)


def _file_with_one_bad_row() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = excel.DATA_SHEET
    ws.append(excel.HEADERS)
    for n, district in ((1, "鼓楼区"), (2, "鼓楼区"), (3, "火星区"), (4, "鼓楼区")):
        ws.append(
            [f"第{n}艺术培训中心", _code(n), "非学科类", "文化艺术", "线下", "营利性",
             f"示例路{n}号", district, 60, f"教民{n:04d}号", "2024-09-01", "2027-08-31"]
        )  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_staff_upload_a_file_with_one_bad_row_and_nothing_is_imported(live_server, page):
    DistrictFactory(name="鼓楼区")
    staff = UserFactory(username="peixun", is_staff=True)
    staff.groups.add(Group.objects.get(name="校外培训"))

    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("peixun")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    page.goto(live_server.url + "/institutions/staff/import/")
    assert page.get_by_test_id("template-link").is_visible()
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(
        files=[{"name": "机构名单.xlsx", "mimeType": excel.CONTENT_TYPE,
                "buffer": _file_with_one_bad_row()}]
    )  # fmt: skip
    page.get_by_role("button", name="检查并导入").click()

    summary = page.get_by_test_id("import-errors").inner_text()
    assert "未导入任何数据" in summary
    rows = page.get_by_test_id("error-table").locator("tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0] == "第4行" and cells[1] == "所在区"
    assert "找不到名为“火星区”的区" in cells[2]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert Institution.objects.count() == 0
