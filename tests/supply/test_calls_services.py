"""Opening a call and applying to it: each rule at its boundary, nothing written on refusal."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from supply import calls
from supply.call_models import Call, CallApplication, CallDocument
from tests.supply import call_helpers
from tests.supply.call_helpers import CRITERIA, apply, bureau_officer, member, open_call, pdf

pytestmark = pytest.mark.django_db

fast_passwords = call_helpers.fast_passwords


@pytest.fixture
def bureau(db):
    return bureau_officer()


def test_weights_summing_to_100_are_taken(bureau):
    call = open_call(bureau)
    assert [(c.name, c.weight) for c in call.criteria.all()] == CRITERIA


@pytest.mark.parametrize("last", [9, 11])
def test_weights_not_summing_to_100_are_refused(bureau, last):
    with pytest.raises(ValidationError) as exc:
        open_call(bureau, criteria=[*CRITERIA[:4], ("安全", last)])
    assert exc.value.message_dict["criteria"] == [
        f"各评分项分值之和应为 100 分，现为 {90 + last} 分。"
    ]
    assert not Call.objects.exists()


def test_a_tie_criterion_must_be_a_criterion(bureau):
    with pytest.raises(ValidationError) as exc:
        open_call(bureau, tie_criterion="口碑")
    assert "同分优先评分项“口碑”不是本次征集的评分项" in str(exc.value)


def test_parse_criteria_names_the_bad_line():
    assert calls.parse_criteria("资质 20\n课程方案：30\n") == [("资质", 20), ("课程方案", 30)]
    with pytest.raises(ValidationError) as exc:
        calls.parse_criteria("资质 20\n师资")
    assert "第2行" in str(exc.value)


def test_only_the_bureau_opens_a_call(world):
    with pytest.raises(PermissionDenied):
        open_call(world.bureau)  # the homework line's staff
    with pytest.raises(PermissionDenied):
        open_call(member().user)


def test_an_application_at_the_deadline_is_taken_and_one_second_later_refused(bureau):
    call = open_call(bureau)
    apply(call, member(), when=call.deadline)
    with pytest.raises(ValidationError) as exc:
        apply(call, member(), when=call.deadline + dt.timedelta(seconds=1))
    deadline = f"{timezone.localtime(call.deadline):%Y-%m-%d %H:%M}"
    assert exc.value.messages == [f"本次征集已于{deadline}截止，不再接受申报。"]
    assert CallApplication.objects.count() == 1 and CallDocument.objects.count() == 1


def test_an_organisation_applies_once(bureau):
    call = open_call(bureau)
    m = member()
    apply(call, m)
    with pytest.raises(ValidationError) as exc:
        apply(call, member(organisation=m.organisation))
    assert "每个组织只能申报一次" in str(exc.value)


def test_the_price_must_be_below_the_outside_price(bureau):
    call = open_call(bureau)
    with pytest.raises(ValidationError) as exc:
        apply(call, member(), price="80", outside="80")
    assert exc.value.message_dict["price_per_lesson"] == [
        "报价80.00元须低于本机构校外同类课时价80.00元。"
    ]
    apply(call, member(), price="79.99", outside="80")


def test_a_document_that_is_not_a_pdf_refuses_the_application(bureau):
    call = open_call(bureau)
    bad = SimpleUploadedFile("执照.pdf", b"just text", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        calls.application_submit(
            actor=member().user, call_id=call.pk, service_items="篮球",
            price_per_lesson="40", outside_price="80", files=[pdf(), bad],
        )  # fmt: skip
    assert "不是 PDF、JPG 或 PNG 文件" in str(exc.value)
    assert "申报未提交" in str(exc.value)
    assert not CallApplication.objects.exists()


def test_an_application_needs_a_document(bureau):
    call = open_call(bureau)
    with pytest.raises(ValidationError) as exc:
        calls.application_submit(
            actor=member().user, call_id=call.pk, service_items="篮球",
            price_per_lesson="40", outside_price="80", files=[],
        )  # fmt: skip
    assert "请上传申报材料" in str(exc.value)


def test_only_an_organisation_member_applies(bureau, world):
    call = open_call(bureau)
    with pytest.raises(PermissionDenied):
        calls.application_submit(
            actor=world.principal_a, call_id=call.pk, service_items="篮球",
            price_per_lesson="40", outside_price="80", files=[pdf()],
        )  # fmt: skip


def test_a_conflict_needs_a_reason(bureau):
    from tests.supply.call_helpers import panel

    call = open_call(bureau)
    a = apply(call, member())
    (e,) = panel(bureau, call, 1)
    with pytest.raises(ValidationError) as exc:
        calls.conflict_declare(actor=e.user, application_id=a.pk, reason=" ")
    assert "请填写回避事由" in str(exc.value)


def test_an_inactive_expert_cannot_be_assigned(bureau):
    from tests.factories import ExpertFactory

    call = open_call(bureau)
    e = ExpertFactory(active=False)
    with pytest.raises(ValidationError) as exc:
        calls.expert_assign(actor=bureau, call_id=call.pk, expert_id=e.pk)
    assert "不在专家库中或已停用" in str(exc.value)


def test_an_expert_removed_from_the_pool_is_not_waited_for(bureau):
    """A fourth assigned expert who leaves the pool before scoring: the three others' scores
    decide and admission goes ahead (while they are on the pool, their missing scores hold
    it)."""
    from supply import organisations
    from tests.supply.call_helpers import close, panel, score

    call = open_call(bureau, admit_count=1)
    application = apply(call, member())
    close(call)
    *scorers, gone = panel(bureau, call, 4)
    for expert in scorers:
        score(expert, application, [20, 30, 25, 15, 10])
    with pytest.raises(ValidationError):  # the fourth's scores are missing
        calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
    organisations.expert_deactivate(actor=bureau, expert_id=gone.pk)
    calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
    assert Call.objects.get(pk=call.pk).status == Call.Status.PUBLISHED
