"""The exam entry form (考试安排): it parses; the rules are governance/exams.py's."""

from django import forms

from governance.exam_models import Exam
from portal.models import GRADE_NAMES


class ExamForm(forms.Form):
    subject = forms.CharField(label="学科", required=False, max_length=100)
    grade = forms.TypedChoiceField(
        label="年级",
        coerce=int,
        choices=(),
        error_messages={"required": "请选择年级。", "invalid_choice": "请选择年级。"},
    )
    kind = forms.ChoiceField(
        label="考试类型",
        choices=Exam.Kind.choices,
        error_messages={"required": "请选择考试类型。", "invalid_choice": "请选择考试类型。"},
    )
    date = forms.DateField(
        label="考试日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写考试日期。", "invalid": "日期格式应为 年-月-日。"},
    )
    ranked = forms.BooleanField(label="按排名公布成绩", required=False)

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [("", "请选择")] + [
            (g, f"{GRADE_NAMES[g]}年级") for g in school.grades()
        ]
