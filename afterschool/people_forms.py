"""Forms of the people register (志愿者与社会资源人员): they parse; afterschool/people.py rules."""

from django import forms

from afterschool.models import CareSite, OfferingPerson, Person, Provider
from portal.models import District, School

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PersonForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50,
                           error_messages={"required": "请填写姓名。"})  # fmt: skip
    kind = forms.ChoiceField(label="类别", choices=Person.Kind.choices,
                             error_messages={"required": "请选择人员类别。",
                                             "invalid_choice": "请选择人员类别。"})  # fmt: skip
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    provider = forms.ModelChoiceField(
        label="所属第三方机构", required=False,
        queryset=Provider.objects.filter(status=Provider.Status.ADMITTED),
    )  # fmt: skip
    venue = forms.CharField(label="所属单位/社区/场馆", max_length=100, required=False)
    no_criminal_record_on = forms.DateField(label="无犯罪记录证明开具日期", required=False,
                                            widget=DATE)  # fmt: skip
    health_cert_on = forms.DateField(label="健康证明日期", required=False, widget=DATE)
    trained_on = forms.DateField(label="安全培训日期", required=False, widget=DATE)

    def __init__(self, *args, bureau=False, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["active"] = forms.BooleanField(label="在册", required=False)
        if bureau and not editing:
            # the bureau chooses the register: a school's, a site's, or the district pool
            self.fields["school"] = forms.ModelChoiceField(
                label="登记到学校（留空：全区人员库）", required=False,
                queryset=School.objects.order_by("name"),
            )  # fmt: skip
            self.fields["site"] = forms.ModelChoiceField(
                label="或登记到托管点", required=False, queryset=CareSite.objects.all()
            )
            self.fields["district"] = forms.ModelChoiceField(
                label="全区人员库所属区（不登记到学校或托管点时）", required=False,
                queryset=District.objects.order_by("pk"),
            )  # fmt: skip

    def clean_phone(self):
        return self.cleaned_data["phone"].strip()


class AssignForm(forms.Form):
    person = forms.IntegerField(error_messages={"required": "请选择人员。",
                                                "invalid": "请选择人员。"})  # fmt: skip
    role = forms.ChoiceField(choices=OfferingPerson.Role.choices, required=False)
