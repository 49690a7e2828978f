"""Forms of 阳光分班: they parse what was typed; the rules are the services'
(governance/draw.py), whose messages come back onto the fields (``put_errors``)."""

from django import forms
from django.core.exceptions import ValidationError

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _int(label, **kwargs):
    return forms.IntegerField(
        label=label, min_value=0, max_value=10000,
        error_messages={"required": f"请填写{label}。", "invalid": f"{label}应为整数。",
                        "min_value": f"{label}不能为负数。", "max_value": f"{label}过大。"},
        **kwargs,
    )  # fmt: skip


def _when(label):
    return forms.DateTimeField(
        label=label, widget=DATETIME, input_formats=DATETIME_FORMATS,
        error_messages={"required": f"请填写{label}。",
                        "invalid": f"{label}格式不对（年-月-日 时:分）。"},
    )  # fmt: skip


class CreateForm(forms.Form):
    grade = forms.TypedChoiceField(
        label="年级", choices=[(1, "一年级（小学新生）"), (7, "七年级（初中新生）")], coerce=int,
        error_messages={"required": "请选择年级。",
                        "invalid_choice": "阳光分班用于新生入学：一年级或七年级。"},
    )  # fmt: skip
    year = _int("入学年份")
    class_count = _int("班级数")
    scheduled_at = _when("计划抽签时间")


class ListsForm(forms.Form):
    class_count = _int("班级数")
    pupils = forms.CharField(
        label="学生名单（每行一名：姓名,性别[,分层]）", required=False, max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"max_length": "名单过长，请用 Excel 或 CSV 文件上传。"},
    )  # fmt: skip
    file = forms.FileField(
        label="或上传 Excel（.xlsx）/ CSV 文件（列：姓名、性别、分层）", required=False,
        error_messages={"invalid": "上传的文件无效，请重新选择。"},
    )  # fmt: skip
    teachers = forms.CharField(
        label="参与抽签的班主任（每行一名，人数等于班级数；不抽班主任可不填）",
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"max_length": "班主任名单过长。"},
    )  # fmt: skip


class PublishForm(forms.Form):
    scheduled_at = _when("抽签时间")
    allow_bands = forms.BooleanField(label="允许按学校填报的分层均衡（仅七年级）", required=False)


class RedrawForm(forms.Form):
    reason = forms.CharField(
        label="重新分班的理由（教育局决定，公开显示）", max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "重新分班须由教育局作出决定，请写明理由（至少 4 个字）。",
                        "max_length": "理由最多 1000 个字。"},
    )  # fmt: skip


def put_errors(form, exc: ValidationError) -> None:
    """The service's messages on the form's fields (others on the form itself)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
