"""Commitment letters (承诺书, issue 18 part 2): templates and their frozen versions, campaigns
to every teacher of the chosen schools, each teacher signing their own letter, the nightly
finding of unsigned letters after the deadline, the yearly renewal and the print page."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance import pledges
from governance.pledge_models import PledgeCampaign, PledgeLetter, PledgeTemplate
from portal.compliance import run_checks
from portal.models import AuditLog, Finding, Notice, SchoolStaff
from tests.factories import SchoolStaffFactory
from tests.governance.pledge_helpers import TEXT, TODAY, campaign_for, letter_of
from tests.post_routes import staff_of

pytestmark = pytest.mark.django_db
RULE = "governance.pledge.unsigned_after_deadline"


# --- templates -------------------------------------------------------------------------------


def test_a_template_is_edited_in_place_until_a_campaign_issues_it(world):
    tpl = pledges.template_save(actor=world.bureau, title="教师承诺书", text="草稿")
    same = pledges.template_save(
        actor=world.bureau, template_id=tpl.pk, title="教师承诺书", text=TEXT
    )
    assert same.pk == tpl.pk and same.version == 1 and same.text == TEXT


def test_an_issued_text_is_frozen_and_an_edit_makes_the_next_version(world):
    c = campaign_for(world)
    v1 = c.template
    v1.refresh_from_db()
    assert v1.frozen_at is not None
    v2 = pledges.template_save(
        actor=world.bureau, template_id=v1.pk, title=v1.title, text=TEXT + "\n三、新增条款。"
    )
    assert v2.pk != v1.pk and v2.version == 2
    v1.refresh_from_db()
    assert v1.text == TEXT  # the signed words never change
    assert AuditLog.objects.filter(action="governance.pledge_template.versioned").count() == 1


def test_a_template_needs_a_title_and_a_text(world):
    with pytest.raises(ValidationError) as exc:
        pledges.template_save(actor=world.bureau, title="", text="")
    assert exc.value.message_dict == {"title": ["请填写承诺书标题。"], "text": ["请填写承诺内容。"]}
    assert not PledgeTemplate.objects.exists()


@pytest.mark.parametrize("who", ["principal_a", "teacher_a", "parent_a"])
def test_only_governance_staff_keep_templates(world, who):
    with pytest.raises(PermissionDenied):
        pledges.template_save(actor=getattr(world, who), title="教师承诺书", text=TEXT)


def test_bureau_staff_of_another_line_keep_no_templates(world):
    with pytest.raises(PermissionDenied):
        pledges.template_save(actor=staff_of("课后服务", "kh"), title="教师承诺书", text=TEXT)


# --- campaigns ------------------------------------------------------------------------------


def test_a_campaign_gives_every_staff_member_of_the_chosen_schools_a_letter(
    world, django_capture_on_commit_callbacks
):
    extra = SchoolStaffFactory(
        school=world.school_a, name="甲班主任", role=SchoolStaff.Role.CLASS_TEACHER
    )
    with django_capture_on_commit_callbacks(execute=True):
        c = campaign_for(world)
    letters = PledgeLetter.objects.filter(campaign=c)
    staff_a = set(SchoolStaff.objects.filter(school=world.school_a).values_list("pk", flat=True))
    assert set(letters.values_list("staff_id", flat=True)) == staff_a
    assert extra.pk in staff_a
    assert not letters.filter(school=world.school_b).exists()
    assert Notice.objects.filter(user=world.teacher_a, key=f"governance.pledge:{c.pk}").exists()
    assert not Notice.objects.filter(user=world.principal_b).exists()


def test_a_deadline_before_today_is_refused(world):
    tpl = pledges.template_save(actor=world.bureau, title="教师承诺书", text=TEXT)
    with pytest.raises(ValidationError) as exc:
        pledges.campaign_issue(
            actor=world.bureau,
            template_id=tpl.pk,
            year=2026,
            deadline=TODAY - dt.timedelta(days=1),
            school_ids=[world.school_a.pk],
            today=TODAY,
        )
    assert exc.value.message_dict["deadline"] == ["签署截止日期不能早于今天。"]
    # the boundary: today itself is a deadline
    pledges.campaign_issue(
        actor=world.bureau,
        template_id=tpl.pk,
        year=2026,
        deadline=TODAY,
        school_ids=[world.school_a.pk],
        today=TODAY,
    )


def test_a_campaign_without_schools_writes_nothing(world):
    tpl = pledges.template_save(actor=world.bureau, title="教师承诺书", text=TEXT)
    with pytest.raises(ValidationError) as exc:
        pledges.campaign_issue(
            actor=world.bureau,
            template_id=tpl.pk,
            year=2026,
            deadline=TODAY,
            school_ids=[],
            today=TODAY,
        )
    assert exc.value.message_dict["schools"] == ["请至少选择一所学校。"]
    assert not PledgeCampaign.objects.exists() and not PledgeLetter.objects.exists()
    tpl.refresh_from_db()
    assert tpl.frozen_at is None  # nothing half-written: not even the freeze


def test_one_campaign_per_title_and_year(world):
    c = campaign_for(world)
    with pytest.raises(ValidationError) as exc:
        pledges.campaign_issue(
            actor=world.bureau,
            template_id=c.template_id,
            year=2026,
            deadline=TODAY,
            school_ids=[world.school_b.pk],
            today=TODAY,
        )
    assert "2026年度已发放过" in exc.value.message_dict["year"][0]


def test_renewal_copies_last_years_schools_with_the_newest_version(world):
    c = campaign_for(world, schools=[world.school_a, world.school_b])
    v2 = pledges.template_save(
        actor=world.bureau,
        template_id=c.template_id,
        title="教师承诺书",
        text=TEXT + "（2027修订）",
    )
    new = pledges.campaign_renew(
        actor=world.bureau, campaign_id=c.pk, deadline=dt.date(2027, 9, 30), today=TODAY
    )
    assert new.year == 2027 and new.template_id == v2.pk and new.renewed_from_id == c.pk
    assert set(new.schools.all()) == {world.school_a, world.school_b}
    assert new.letters.count() == c.letters.count()
    with pytest.raises(ValidationError):
        pledges.campaign_renew(
            actor=world.bureau, campaign_id=c.pk, deadline=dt.date(2027, 9, 30), today=TODAY
        )


def test_a_principal_cannot_renew(world):
    c = campaign_for(world)
    with pytest.raises(PermissionDenied):
        pledges.campaign_renew(
            actor=world.principal_a, campaign_id=c.pk, deadline=dt.date(2027, 9, 30), today=TODAY
        )


# --- signing --------------------------------------------------------------------------------


def test_a_teacher_signs_their_letter_with_the_version_and_hash_of_the_text(world):
    c = campaign_for(world)
    letter = letter_of(c, world.teacher_a)
    pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=True, version=1)
    letter.refresh_from_db()
    assert letter.signed_by == world.teacher_a and letter.signed_version == 1
    assert letter.signed_text_sha256 == pledges.text_sha256(TEXT)
    assert AuditLog.objects.filter(action="governance.pledge_letter.signed").count() == 1


def test_signing_needs_the_box_ticked(world):
    letter = letter_of(campaign_for(world), world.teacher_a)
    with pytest.raises(ValidationError) as exc:
        pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=False)
    assert exc.value.message_dict["agreed"] == ["请勾选“我已阅读并承诺遵守”后再签署。"]
    letter.refresh_from_db()
    assert letter.signed_at is None


def test_a_teacher_cannot_sign_a_colleagues_letter(world):
    letter = letter_of(campaign_for(world), world.principal_a)
    with pytest.raises(PermissionDenied):
        pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=True)
    letter.refresh_from_db()
    assert letter.signed_at is None


def test_a_second_signature_keeps_the_first(world):
    letter = letter_of(campaign_for(world), world.teacher_a)
    first = pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=True)
    again = pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=True)
    assert again.signed_at == first.signed_at
    assert AuditLog.objects.filter(action="governance.pledge_letter.signed").count() == 1


# --- the nightly finding ------------------------------------------------------------------


def _open():
    return Finding.objects.filter(rule=RULE, resolved_at__isnull=True)


def test_unsigned_letters_are_a_finding_only_after_the_deadline_and_resolve_when_signed(world):
    c = campaign_for(world, schools=[world.school_a, world.school_b])
    run_checks(for_date=c.deadline, rules=[RULE])  # on the deadline day: still in time
    assert not _open().exists()
    day_after = c.deadline + dt.timedelta(days=1)
    run_checks(for_date=day_after, rules=[RULE])
    assert set(_open().values_list("school_id", flat=True)) == {
        world.school_a.pk,
        world.school_b.pk,
    }
    for letter in PledgeLetter.objects.filter(school=world.school_a).select_related("staff"):
        pledges.letter_sign(actor=letter.staff.user, letter_id=letter.pk, agreed=True)
    run_checks(for_date=day_after, rules=[RULE])
    assert list(_open().values_list("school_id", flat=True)) == [world.school_b.pk]
    assert Finding.objects.filter(
        rule=RULE, school=world.school_a, resolved_at__isnull=False
    ).exists()


# --- pages ----------------------------------------------------------------------------------


def test_the_teacher_reads_and_signs_on_the_letter_page(world, client_for):
    letter = letter_of(campaign_for(world), world.teacher_a)
    client = client_for(world.teacher_a)
    page = client.get(reverse("pledge:letter", args=[letter.pk]))
    assert page.status_code == 200 and "不得有偿补课" in page.content.decode()
    refused = client.post(reverse("pledge:letter", args=[letter.pk]), {"version": 1})
    assert refused.status_code == 400 and "请勾选" in refused.content.decode()
    ok = client.post(reverse("pledge:letter", args=[letter.pk]), {"agreed": "on", "version": 1})
    assert ok.status_code == 302
    letter.refresh_from_db()
    assert letter.is_signed


def test_another_teachers_letter_is_a_404(world, client_for):
    letter = letter_of(campaign_for(world), world.principal_a)
    client = client_for(world.teacher_a)
    assert client.get(reverse("pledge:letter", args=[letter.pk])).status_code == 404
    resp = client.post(reverse("pledge:letter", args=[letter.pk]), {"agreed": "on"})
    assert resp.status_code == 404
    assert client.get(reverse("pledge:print", args=[letter.pk])).status_code == 404


def test_the_principal_sees_who_has_not_signed(world, client_for):
    c = campaign_for(world)
    letter = letter_of(c, world.teacher_a)
    pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=True)
    page = client_for(world.principal_a).get(reverse("pledge:campaign", args=[c.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    unsigned = html.split('data-testid="unsigned"')[1].split("</ul>")[0]
    assert "甲校长" in unsigned and "甲老师" not in unsigned
    assert "续签" not in html  # the renewal is the bureau's


def test_another_schools_principal_gets_a_404_and_a_teacher_a_403(world, client_for):
    c = campaign_for(world)
    url = reverse("pledge:campaign", args=[c.pk])
    assert client_for(world.principal_b).get(url).status_code == 404
    assert client_for(world.teacher_a).get(url).status_code == 403
    assert client_for(world.parent_a).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


def test_the_print_page_shows_the_signature(world, client_for):
    letter = letter_of(campaign_for(world), world.teacher_a)
    pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=True)
    url = reverse("pledge:print", args=[letter.pk])
    for user in (world.teacher_a, world.principal_a, world.bureau):
        page = client_for(user).get(url)
        assert page.status_code == 200
        assert pledges.text_sha256(TEXT) in page.content.decode()
    assert client_for(world.principal_b).get(url).status_code == 404
    assert client_for(world.parent_a).get(url).status_code == 403


def test_a_principal_cannot_issue_a_campaign_through_the_page(world, client_for):
    resp = client_for(world.principal_a).post(reverse("pledge:campaigns"), {"year": 2026})
    assert resp.status_code == 403


def test_the_campaign_page_costs_the_same_for_many_teachers(
    world, client_for, django_assert_max_num_queries
):
    for _ in range(30):
        SchoolStaffFactory(school=world.school_a)
    c = campaign_for(world)
    client = client_for(world.bureau)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("pledge:campaign", args=[c.pk])).status_code == 200
