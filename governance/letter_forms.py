"""The letter form (致家长的一封信): it parses; the rules are governance/letters.py's."""

from django import forms

from portal.models import GRADE_NAMES


class LetterForm(forms.Form):
    district = forms.TypedChoiceField(
        label="区（全区家长）",
        coerce=int,
        required=False,
        choices=(),
        error_messages={"invalid_choice": "请选择区。"},
    )
    schools = forms.TypedMultipleChoiceField(
        label="学校（不选则全区）",
        coerce=int,
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "学校只能向本校家长发信，不能选择其他学校。"},
    )
    grades = forms.TypedMultipleChoiceField(
        label="年级（不选则全部年级）",
        coerce=int,
        required=False,
        choices=[(g, f"{name}年级") for g, name in GRADE_NAMES.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "年级应为一至九年级。"},
    )
    classes = forms.TypedMultipleChoiceField(
        label="班级（不选则全部班级）",
        coerce=int,
        required=False,
        choices=(),
        error_messages={"invalid_choice": "所选班级不存在或不在本校。"},
    )
    title = forms.CharField(label="标题", required=False, max_length=1000)
    body = forms.CharField(
        label="正文", required=False, max_length=100000, widget=forms.Textarea(attrs={"rows": 12})
    )

    def __init__(self, *args, bureau: bool, districts, schools, classes, **kwargs):
        super().__init__(*args, **kwargs)
        if bureau:
            self.fields["district"].choices = [("", "请选择")] + [(d.pk, d.name) for d in districts]
        else:
            del self.fields["district"]
        # a school sees its own school and classes only; another's id is an invalid choice
        self.fields["schools"].choices = [(s.pk, s.name) for s in schools]
        self.fields["classes"].choices = [(c.pk, f"{c.school.name} {c}") for c in classes]
        self.fields["classes"].widget.attrs["size"] = 8
