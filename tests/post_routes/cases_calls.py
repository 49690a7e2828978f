"""POST cases of the public call for providers (公开征集, /calls/, issue 19 part 1): the
organisation's registration and members, applying, the experts' scores and conflicts, and
the bureau's calls, panel, admission, organisations and expert pool."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from supply import organisations
from supply.account_models import Expert, Organisation, OrganisationMember
from supply.call_models import Call, CallApplication, CallConflict, CallExpert, CallScore
from tests.factories import ExpertFactory
from tests.post_routes import Case, case
from tests.supply.call_helpers import apply, bureau_officer, close, member, open_call, panel, score

# the bureau's other lines, schools, parents and the other outside kinds
NOT_BUREAU = ("anonymous", "school", "teacher", "parent", "bureau_homework", "bureau_cases",
              "staff_without_group", "other_institution", "other_site", "other_organisation",
              "other_expert")  # fmt: skip
CODE = "91350100M000100Y43"  # a valid USCC
CRITERIA = "资质 20\n课程方案 30\n师资 25\n价格 15\n安全 10"


def _pdf():
    return {"files": SimpleUploadedFile("执照.pdf", b"%PDF-1.4\n%x\n", "application/pdf")}


def _text():
    return {"files": SimpleUploadedFile("执照.pdf", b"just text", "application/pdf")}


@case("calls:register", refused=())
def register(w):
    organisations.rate_clear("127.0.0.1")  # the test client's address
    valid = {"name": "阳光体育俱乐部", "credit_code": CODE, "kind": "club",
             "contact_name": "王经理", "contact_phone": "13900001234", "username": "yg_admin",
             "password1": "Sunshine-2027-pass", "password2": "Sunshine-2027-pass"}  # fmt: skip
    return Case(
        url=reverse("calls:register"),
        user=None,
        valid=valid,
        state=lambda: list(Organisation.objects.values_list("credit_code", flat=True)),
        audit="supply.organisation.registered",
        invalid={**valid, "credit_code": CODE[:17] + "0"},
        error="统一社会信用代码校验位不正确",
        no_refused="the public registration: anyone may register an organisation",
    )


@case("calls:apply", refused=("anonymous", "school", "parent", "bureau_homework",
                              "other_expert", "other_site", "other_institution"))  # fmt: skip
def apply_case(w):
    call = open_call(bureau_officer("calls_bureau"))
    m = member("calls_org")
    valid = {"service_items": "篮球、足球", "plan": "每周两次", "price_per_lesson": "40",
             "outside_price": "80"}  # fmt: skip
    return Case(
        url=reverse("calls:apply", args=[call.pk]),
        user=m.user,
        valid=valid,
        files=_pdf,
        state=lambda: list(CallApplication.objects.values_list("organisation_id", flat=True)),
        audit="supply.application.submitted",
        invalid=valid,
        invalid_files=_text,
        error="不是 PDF、JPG 或 PNG 文件",
    )


def _scoring(w):
    bureau = bureau_officer("calls_bureau")
    call = open_call(bureau, admit_count=1)
    a = apply(call, member("calls_org"))
    close(call)
    experts = panel(bureau, call, 3)
    return bureau, call, a, experts


@case("calls:expert_application", refused=("anonymous", "school", "parent", "bureau_homework",
                                           "other_organisation", "other_expert"))  # fmt: skip
def expert_score(w):
    _b, call, a, (e, *_rest) = _scoring(w)
    crits = list(call.criteria.all())
    valid = {f"c{c.pk}": str(c.weight - 1) for c in crits}
    return Case(
        url=reverse("calls:expert_application", args=[a.pk]),
        user=e.user,
        valid=valid,
        state=lambda: list(CallScore.objects.order_by("pk").values_list("value", flat=True)),
        audit="supply.score.saved",
        invalid={**valid, f"c{crits[0].pk}": "21"},
        error="“资质”的得分应在 0–20 分之间（该项满分20分），不能为21分。",
    )


@case("calls:expert_conflict", refused=("anonymous", "school", "parent", "bureau_homework",
                                        "other_organisation", "other_expert"))  # fmt: skip
def expert_conflict(w):
    _b, _call, a, (e, *_rest) = _scoring(w)
    return Case(
        url=reverse("calls:expert_conflict", args=[a.pk]),
        user=e.user,
        valid={"reason": "曾在该机构任职"},
        state=lambda: list(CallConflict.objects.values_list("reason", flat=True)),
        audit="supply.conflict.declared",
        invalid={"reason": ""},
        error="请填写回避事由",
    )


@case("calls:call_new", refused=NOT_BUREAU)
def call_new(w):
    valid = {"title": "2027年课后服务机构公开征集", "service_kinds": "体育、艺术",
             "deadline": "2099-06-30 17:00", "criteria": CRITERIA,
             "tie_criterion": "课程方案", "admit_count": "3", "service_start": "2099-09-01",
             "service_end": "2100-07-15"}  # fmt: skip
    return Case(
        url=reverse("calls:call_new"),
        user=bureau_officer("calls_bureau"),
        valid=valid,
        state=lambda: list(Call.objects.values_list("title", flat=True)),
        audit="supply.call.opened",
        invalid={**valid, "criteria": CRITERIA.replace("安全 10", "安全 9")},
        error="各评分项分值之和应为 100 分，现为 99 分。",
    )


@case("calls:call_assign", refused=NOT_BUREAU)
def call_assign(w):
    bureau = bureau_officer("calls_bureau")
    call = open_call(bureau)
    expert = ExpertFactory()
    return Case(
        url=reverse("calls:call_assign", args=[call.pk]),
        user=bureau,
        valid={"expert": str(expert.pk)},
        state=lambda: list(CallExpert.objects.values_list("expert_id", flat=True)),
        audit="supply.call.expert_assigned",
        invalid={"expert": "999999"},
        error="请选择专家库中的专家。",
    )


@case("calls:call_admit", refused=NOT_BUREAU)
def call_admit(w):
    bureau, call, a, experts = _scoring(w)
    for e in experts:
        score(e, a, [18, 27, 22, 13, 9])
    return Case(
        url=reverse("calls:call_admit", args=[call.pk]),
        user=bureau,
        valid={"vetting_note": "已查无犯罪记录（2027-06-01，张三）"},
        state=lambda: list(Call.objects.values_list("status", flat=True)),
        audit="supply.call.admitted",
        invalid={"vetting_note": ""},
        error="请填写人员审查记录",
    )


@case("calls:organisation_deactivate", refused=NOT_BUREAU)
def organisation_deactivate(w):
    m = member("calls_org")
    return Case(
        url=reverse("calls:organisation_deactivate", args=[m.organisation_id]),
        user=bureau_officer("calls_bureau"),
        valid={"reason": "申报材料弄虚作假"},
        state=lambda: list(
            Organisation.objects.filter(pk=m.organisation_id).values_list("active", flat=True)
        ),  # fmt: skip
        audit="supply.organisation.deactivated",
        invalid={"reason": ""},
        error="停用组织账号时必须说明原因。",
    )


@case("calls:experts", refused=NOT_BUREAU)
def experts(w):
    return Case(
        url=reverse("calls:experts"),
        user=bureau_officer("calls_bureau"),
        valid={"username": "zhuanjia_new", "name": "周教授", "field": "体育"},
        state=lambda: list(Expert.objects.values_list("name", flat=True)),
        audit="supply.expert.created",
        invalid={"username": "zhuanjia_new", "name": "", "field": "体育"},
        error="请填写姓名。",
    )


@case("calls:expert_deactivate", refused=NOT_BUREAU)
def expert_deactivate(w):
    e = ExpertFactory()
    return Case(
        url=reverse("calls:expert_deactivate", args=[e.pk]),
        user=bureau_officer("calls_bureau"),
        valid={},
        state=lambda: list(Expert.objects.filter(pk=e.pk).values_list("active", flat=True)),
        audit="supply.expert.deactivated",
        no_invalid="a button without fields",
    )


ORG_REFUSED = ("anonymous", "school", "parent", "bureau_homework", "other_expert",
               "other_site", "other_institution")  # fmt: skip


@case("calls:org_members", refused=ORG_REFUSED)
def org_members(w):
    m = member("calls_org")
    return Case(
        url=reverse("calls:org_members"),
        user=m.user,
        valid={"username": "calls_org_staff", "name": "李老师", "role": "staff"},
        state=lambda: list(
            OrganisationMember.objects.filter(organisation_id=m.organisation_id).values_list(
                "name", flat=True
            )
        ),  # fmt: skip
        audit="supply.member.added",
        invalid={"username": "", "name": "李老师", "role": "staff"},
        error="请填写登录账号。",
    )


@case("calls:org_member_deactivate", refused=(*ORG_REFUSED, "other_organisation"))
def org_member_deactivate(w):
    m = member("calls_org")
    staff = member("calls_org_staff", organisation=m.organisation, role="staff")
    return Case(
        url=reverse("calls:org_member_deactivate", args=[staff.pk]),
        user=m.user,
        valid={},
        state=lambda: list(
            OrganisationMember.objects.order_by("pk").values_list("active", flat=True)
        ),  # fmt: skip
        audit="supply.member.deactivated",
        invalid={},
        invalid_url=reverse("calls:org_member_deactivate", args=[m.pk]),
        error="不能停用自己的账号。",
    )


@case("calls:password", refused=("anonymous", "school", "parent", "bureau_homework",
                                 "other_site", "other_institution"))  # fmt: skip
def password(w):
    from tests.factories import PASSWORD

    e = ExpertFactory(user__username="calls_expert_pw")
    new = "Zhuanjia-new-2027"
    return Case(
        url=reverse("calls:password"),
        user=e.user,
        valid={"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        state=lambda: type(e.user).objects.get(pk=e.user_id).password,
        audit="auth.password_changed",
        invalid={"old_password": "wrong", "new_password1": new, "new_password2": new},
        error="你的旧密码不正确",
    )
