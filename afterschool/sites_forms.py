"""Forms of the sites part's pages: they parse, afterschool/sites.py decides."""

from django import forms
from django.utils import timezone

from afterschool.models import Weekday

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _req(label: str) -> dict:
    return {"required": f"{label}：请填写。", "invalid": f"{label}：格式不正确。"}


class SiteForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100, error_messages=_req("名称"))
    partner_school = forms.TypedChoiceField(
        label="承办学校", coerce=int,
        error_messages={"required": "承办学校：请选择。",
                        "invalid_choice": "承办学校：请选择本区的学校。"},
    )  # fmt: skip
    street = forms.CharField(label="街道", max_length=50, error_messages=_req("街道"))
    community = forms.CharField(label="社区", max_length=50, error_messages=_req("社区"))
    address = forms.CharField(label="地址", max_length=200, error_messages=_req("地址"))
    capacity = forms.IntegerField(
        label="容纳人数", min_value=1, max_value=32767,
        error_messages={**_req("容纳人数"), "min_value": "容纳人数：至少 1 人。",
                        "max_value": "容纳人数：最多 32767 人。"},
    )  # fmt: skip
    contact_name = forms.CharField(label="联系人", max_length=50, error_messages=_req("联系人"))
    contact_phone = forms.CharField(
        label="联系电话", max_length=20, error_messages=_req("联系电话")
    )

    def __init__(self, data=None, *, schools=(), initial=None):
        super().__init__(data, initial=initial)
        self.fields["partner_school"].choices = [("", "请选择")] + [(s.pk, s.name) for s in schools]


class SafetyCheckForm(forms.Form):
    checked_on = forms.DateField(label="检查日期", widget=DATE, error_messages=_req("检查日期"))
    checked_by = forms.CharField(label="检查人", max_length=50, error_messages=_req("检查人"))
    note = forms.CharField(
        label="检查情况", required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "检查情况：最多 500 个字。"},
    )  # fmt: skip
    files = forms.FileField(label="检查材料（PDF/JPG/PNG，可选）", required=False)

    def __init__(self, data=None, files=None):
        super().__init__(data, files, initial={"checked_on": timezone.localdate()})


class OperatorForm(forms.Form):
    username = forms.CharField(label="登录账号", max_length=150, error_messages=_req("登录账号"))
    name = forms.CharField(label="姓名", max_length=50, error_messages=_req("姓名"))


class CourseForm(forms.Form):
    name = forms.CharField(label="课程名称", max_length=100, error_messages=_req("课程名称"))
    plan_item = forms.TypedChoiceField(
        label="方案服务项目", coerce=int, required=False, empty_value=None,
        error_messages={"invalid_choice": "服务项目：请选择承办学校本学期方案中的项目。"},
    )  # fmt: skip
    people = forms.TypedMultipleChoiceField(
        label="授课人员（名册中的人员）", coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "授课人员：请选择名册中的人员。"},
    )  # fmt: skip
    grades = forms.TypedMultipleChoiceField(
        label="面向年级", coerce=int, choices=[(g, f"{g}年级") for g in range(1, 10)],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "面向年级：请至少选择一个。",
                        "invalid_choice": "面向年级：请选择 1 至 9 年级。"},
    )  # fmt: skip
    capacity = forms.IntegerField(
        label="名额", min_value=1, max_value=32767,
        error_messages={**_req("名额"), "min_value": "名额：至少 1 人。"},
    )  # fmt: skip
    weekday = forms.TypedChoiceField(
        label="星期", coerce=int, choices=Weekday.choices,
        error_messages={"required": "星期：请选择。", "invalid_choice": "星期：请选择。"},
    )  # fmt: skip
    start = forms.TimeField(label="开始", widget=TIME, error_messages=_req("开始时间"))
    end = forms.TimeField(label="结束", widget=TIME, error_messages=_req("结束时间"))
    starts_on = forms.DateField(label="开课日期（可空）", widget=DATE, required=False)
    signup_opens = forms.DateField(label="报名开始（可空）", widget=DATE, required=False)
    signup_closes = forms.DateField(label="报名截止（可空）", widget=DATE, required=False)

    def __init__(self, data=None, *, items=(), people=()):
        super().__init__(data)
        self.fields["plan_item"].choices = [("", "（不指定）")] + [(i.pk, i.name) for i in items]
        self.fields["people"].choices = [(p.pk, p.name) for p in people]
