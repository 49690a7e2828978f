"""Reads of the call pages, already scoped (portal.access.scope)."""

from django.db.models import Count, Q
from django.http import Http404

from portal.access import get_scoped_or_404, scope
from supply.account_models import Expert, Organisation, OrganisationMember
from supply.call_models import (
    Call,
    CallApplication,
    CallConflict,
    CallDocument,
    CallExpert,
    CallScore,
)


def public_calls():
    """Every call (the public list): open ones and published results."""
    return Call.objects.annotate(n_applications=Count("applications")).order_by(
        "status", "-deadline", "-id"
    )


def public_call(pk) -> Call:
    call = Call.objects.filter(pk=pk).first()
    if call is None:
        raise Http404
    return call


def published_call(pk) -> Call:
    call = Call.objects.filter(pk=pk, status=Call.Status.PUBLISHED).first()
    if call is None:
        raise Http404
    return call


def result_rows(call: Call):
    """The admitted applications of a published call, in rank order (public: no expert)."""
    return (
        CallApplication.objects.filter(call=call, status=CallApplication.Status.ADMITTED)
        .select_related("organisation")
        .order_by("rank")
    )


# --- the organisation ---------------------------------------------------------------------


def own_applications(user):
    return scope(CallApplication.objects.select_related("call"), user).order_by("-submitted_at")


def own_application(user, pk) -> CallApplication:
    return get_scoped_or_404(
        CallApplication.objects.select_related("call", "organisation"), user, pk=pk
    )


def members(organisation_id):
    return OrganisationMember.objects.filter(organisation_id=organisation_id).select_related("user")


def has_applied(user, call) -> bool:
    return scope(CallApplication.objects.filter(call=call), user).exists()


# --- experts -------------------------------------------------------------------------------


def assignments(user):
    return scope(CallExpert.objects.select_related("call"), user).order_by("-call__deadline")


def assigned_applications(user):
    return scope(CallApplication.objects.select_related("call", "organisation"), user).order_by(
        "call", "submitted_at"
    )


def assigned_application(user, pk) -> CallApplication:
    """An application of a call the expert is assigned to; any other is a 404."""
    return get_scoped_or_404(
        CallApplication.objects.select_related("call", "organisation"), user, pk=pk
    )


def my_scores(expert: Expert, application: CallApplication) -> dict:
    return {
        s.criterion_id: s.value
        for s in CallScore.objects.filter(application=application, expert=expert)
    }


def my_conflict(expert: Expert, application: CallApplication):
    return CallConflict.objects.filter(application=application, expert=expert).first()


def documents(user, application: CallApplication):
    return scope(CallDocument.objects.filter(application=application), user)


def document(user, pk) -> CallDocument:
    return get_scoped_or_404(CallDocument.objects.select_related("application"), user, pk=pk)


# --- the bureau ----------------------------------------------------------------------------


def bureau_calls(user):
    return scope(Call.objects.annotate(
        n_applications=Count("applications", distinct=True),
        n_experts=Count("experts", distinct=True),
    ), user)  # fmt: skip


def bureau_call(user, pk) -> Call:
    return get_scoped_or_404(Call.objects.all(), user, pk=pk)


def panel(call):
    return CallExpert.objects.filter(call=call).select_related("expert")


def free_experts(call):
    return Expert.objects.filter(active=True).exclude(call_assignments__call=call)


def organisations(user):
    return scope(
        Organisation.objects.annotate(
            n_members=Count("members", filter=Q(members__active=True), distinct=True),
            n_applications=Count("call_applications", distinct=True),
        ).select_related("provider"),
        user,
    )


def organisation(user, pk) -> Organisation:
    return get_scoped_or_404(Organisation.objects.all(), user, pk=pk)


def experts(user):
    return scope(Expert.objects.select_related("user"), user).order_by("-active", "name")


def expert(user, pk) -> Expert:
    return get_scoped_or_404(Expert.objects.all(), user, pk=pk)
