"""The scoring rules of the public call on small hand-worked examples: a plain mean of three
experts, five experts with the highest and lowest dropped, a conflict of interest excluding a
score, ties broken by the recorded rule; admission of the top N onto the whitelist."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from afterschool.models import Provider
from portal.models import AuditLog
from supply import calls
from supply.call_models import Call, CallApplication, CallScore
from tests.supply import call_helpers
from tests.supply.call_helpers import apply, bureau_officer, close, member, open_call, panel, score

pytestmark = pytest.mark.django_db

fast_passwords = call_helpers.fast_passwords


@pytest.fixture
def bureau(db):
    return bureau_officer()


def _row(rows, application):
    return next(r for r in rows if r.application.pk == application.pk)


def test_three_experts_plain_mean(bureau):
    call = open_call(bureau)
    a = apply(call, member())
    close(call)
    e1, e2, e3 = panel(bureau, call, 3)
    score(e1, a, [18, 25, 20, 12, 8])  # 83
    score(e2, a, [16, 27, 22, 13, 9])  # 87
    score(e3, a, [17, 26, 21, 11, 10])  # 85
    (r,) = calls.ranking(call)
    assert r.means == {"资质": 17, "课程方案": 26, "师资": 21, "价格": 12, "安全": 9}
    assert r.total == 85 and r.missing == 0


def test_five_experts_drop_the_highest_and_lowest_per_criterion(bureau):
    call = open_call(bureau)
    a = apply(call, member())
    close(call)
    experts = panel(bureau, call, 5)
    资质 = [10, 14, 15, 16, 19]  # drop 10 and 19: (14+15+16)/3 = 15 (undropped 14.8)
    方案 = [30, 12, 24, 25, 26]  # drop 30 and 12: (24+25+26)/3 = 25 (undropped 23.4)
    for i, e in enumerate(experts):
        score(e, a, [资质[i], 方案[i], 20, 10, 5])
    (r,) = calls.ranking(call)
    assert r.means["资质"] == 15 and r.means["课程方案"] == 25
    assert r.total == 75


def test_four_experts_keep_every_score(bureau):
    """One below the setting (5): nothing dropped."""
    call = open_call(bureau)
    a = apply(call, member())
    close(call)
    experts = panel(bureau, call, 4)
    资质 = [10, 14, 15, 16]
    for i, e in enumerate(experts):
        score(e, a, [资质[i], 20, 20, 10, 5])
    (r,) = calls.ranking(call)
    assert r.means["资质"] == Fraction(55, 4)  # 13.75
    assert r.total_display == Decimal("68.75")


def test_the_trim_threshold_is_a_setting(settings):
    settings.PORTAL_CALL_TRIM_MIN_EXPERTS = 3
    assert calls.criterion_mean([Decimal(1), Decimal(5), Decimal(9)]) == 5
    assert calls.criterion_mean([Decimal(1), Decimal(5), Decimal(30)]) == 5
    assert calls.criterion_mean([Decimal(1), Decimal(30)]) == Fraction(31, 2)


def test_a_declared_conflict_excludes_that_experts_score(bureau):
    call = open_call(bureau)
    a = apply(call, member())
    b = apply(call, member())
    close(call)
    e1, e2, e3, e4 = panel(bureau, call, 4)
    for e in (e1, e2, e3):
        score(e, a, [15, 24, 20, 12, 8])  # 79 each
        score(e, b, [15, 24, 20, 12, 8])
    score(e4, a, [0, 0, 0, 0, 0])  # given before the conflict was declared
    score(e4, b, [19, 28, 24, 14, 10])  # 95
    calls.conflict_declare(actor=e4.user, application_id=a.pk, reason="曾在该机构任职")
    rows = calls.ranking(call)
    assert _row(rows, a).total == 79  # e4's zeros are not counted
    assert _row(rows, a).counted["资质"] == 3
    assert _row(rows, b).total == Fraction(79 * 3 + 95, 4)  # 83
    assert [r.application for r in rows] == [b, a]
    assert all(r.missing == 0 for r in rows)
    # and no new score from the conflicted expert
    with pytest.raises(ValidationError) as exc:
        score(e4, a, [20, 30, 25, 15, 10])
    assert "利益冲突" in str(exc.value)
    assert CallScore.objects.filter(application=a, expert=e4, value=20).count() == 0


def test_a_tie_is_broken_by_the_recorded_criterion_then_submission_time(bureau):
    call = open_call(bureau, admit_count=1, tie_criterion="课程方案")
    t0 = timezone.now()
    a = apply(call, member(), when=t0)  # the earliest
    b = apply(call, member(), when=t0 + dt.timedelta(minutes=1))
    c = apply(call, member(), when=t0 + dt.timedelta(minutes=2))
    close(call)
    experts = panel(bureau, call, 3)
    for e in experts:
        score(e, a, [20, 25, 20, 10, 5])  # 80, 课程方案 25
        score(e, b, [17, 28, 20, 10, 5])  # 80, 课程方案 28
        score(e, c, [17, 28, 20, 10, 5])  # 80, 课程方案 28, submitted after b
    rows = calls.ranking(call)
    assert [r.total for r in rows] == [80, 80, 80]
    assert [r.application for r in rows] == [b, c, a]
    assert [r.rank for r in rows] == [1, 2, 3]
    assert "课程方案" in call.tie_rule


def test_without_a_tie_criterion_the_earlier_submission_wins(bureau):
    call = open_call(bureau, tie_criterion="")
    t0 = timezone.now()
    a = apply(call, member(), when=t0 + dt.timedelta(minutes=1))
    b = apply(call, member(), when=t0)
    close(call)
    for e in panel(bureau, call, 3):
        score(e, a, [17, 28, 20, 10, 5])
        score(e, b, [20, 25, 20, 10, 5])
    assert [r.application for r in calls.ranking(call)] == [b, a]


# --- scores: 0..weight -----------------------------------------------------------------------


@pytest.fixture
def scored(bureau):
    call = open_call(bureau)
    a = apply(call, member())
    close(call)
    (e,) = panel(bureau, call, 1)
    return call, a, e


def test_a_score_at_zero_and_at_the_weight_is_taken(scored):
    _call, a, e = scored
    score(e, a, [0, 30, 25, 15, 10])
    assert sorted(CallScore.objects.values_list("value", flat=True)) == [0, 10, 15, 25, 30]


def test_a_score_over_the_weight_is_refused_naming_the_criterion_and_range(scored):
    _call, a, e = scored
    with pytest.raises(ValidationError) as exc:
        score(e, a, [20, Decimal("30.1"), 25, 15, 10])
    crit = a.call.criteria.get(name="课程方案")
    assert exc.value.message_dict[f"c{crit.pk}"] == [
        "“课程方案”的得分应在 0–30 分之间（该项满分30分），不能为30.1分。"
    ]
    assert not CallScore.objects.exists()


def test_a_negative_score_is_refused(scored):
    _call, a, e = scored
    with pytest.raises(ValidationError) as exc:
        score(e, a, [-1, 30, 25, 15, 10])
    assert "“资质”的得分应在 0–20 分之间" in str(exc.value)
    assert not CallScore.objects.exists()


def test_an_expert_not_on_the_panel_may_not_score(scored):
    from tests.factories import ExpertFactory

    _call, a, _e = scored
    with pytest.raises(PermissionDenied):
        score(ExpertFactory(), a, [1, 1, 1, 1, 1])


def test_scores_wait_for_the_deadline(bureau):
    call = open_call(bureau)
    a = apply(call, member())
    (e,) = panel(bureau, call, 1)
    with pytest.raises(ValidationError) as exc:
        score(e, a, [1, 1, 1, 1, 1])
    assert "截止" in str(exc.value) and "后才能评分" in str(exc.value)


# --- admission -------------------------------------------------------------------------------


def _scored_call(bureau, n_apps=3, n_experts=3, admit_count=2):
    call = open_call(bureau, admit_count=admit_count)
    apps = [apply(call, member()) for _ in range(n_apps)]
    close(call)
    experts = panel(bureau, call, n_experts)
    for i, a in enumerate(apps):
        for e in experts:
            score(e, a, [20 - i, 30 - i, 25, 15, 10])
    return call, apps, experts


def test_admission_puts_the_top_n_on_the_whitelist_and_publishes(bureau):
    call, apps, _experts = _scored_call(bureau)
    admitted = calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查无犯罪记录")
    assert [a.pk for a in admitted] == [apps[0].pk, apps[1].pk]
    call.refresh_from_db()
    assert call.status == Call.Status.PUBLISHED
    rows = {a.pk: a for a in CallApplication.objects.all()}
    assert rows[apps[0].pk].rank == 1 and rows[apps[0].pk].total == Decimal("100.00")
    assert rows[apps[2].pk].status == "not_admitted" and rows[apps[2].pk].rank == 3
    assert rows[apps[1].pk].criterion_means["资质"] == "19.00"
    for a in apps[:2]:
        org = a.organisation
        org.refresh_from_db()
        assert org.provider.status == Provider.Status.ADMITTED
        contract = org.provider.contracts.get()
        assert contract.price_per_lesson == Decimal("40") and contract.end == call.service_end
    apps[2].organisation.refresh_from_db()
    assert apps[2].organisation.provider is None
    assert AuditLog.objects.filter(action="supply.call.admitted").count() == 1


def test_admission_is_refused_while_scores_are_missing(bureau):
    call, apps, experts = _scored_call(bureau)
    from tests.factories import ExpertFactory

    late = ExpertFactory()
    calls.expert_assign(actor=bureau, call_id=call.pk, expert_id=late.pk)
    with pytest.raises(ValidationError) as exc:
        calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
    assert "评分未完成" in str(exc.value) and "15项" in str(exc.value)
    assert Call.objects.get(pk=call.pk).status == Call.Status.OPEN
    assert not Provider.objects.exists()


def test_admission_needs_the_minimum_of_counted_experts(bureau, settings):
    assert settings.PORTAL_CALL_MIN_EXPERTS == 3
    call, apps, experts = _scored_call(bureau, n_apps=1, n_experts=2, admit_count=1)
    with pytest.raises(ValidationError) as exc:
        calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
    assert "只有2位专家的有效评分，每份申报至少需要3位" in str(exc.value)
    assert not Provider.objects.exists()


def test_admission_with_exactly_the_minimum_is_taken(bureau):
    call, apps, experts = _scored_call(bureau, n_apps=1, n_experts=3, admit_count=1)
    assert len(calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")) == 1


def test_admission_is_refused_before_the_deadline(bureau):
    call = open_call(bureau)
    with pytest.raises(ValidationError) as exc:
        calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
    assert "后才能确定准入名单" in str(exc.value)


def test_admission_needs_the_afterschool_provider_permission(bureau, world):
    call, _apps, _e = _scored_call(bureau, n_apps=1, admit_count=1)
    with pytest.raises(PermissionDenied):
        calls.call_admit(actor=world.bureau, call_id=call.pk, vetting_note="已查")
