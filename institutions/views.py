"""Public pages of the whitelist (no login, phone-sized) and the bureau's governance board."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from institutions import colour, enforcement_selectors, selectors
from institutions.forms import SearchForm
from institutions.models import Institution
from portal import params
from portal.models import District
from portal.permissions import bureau_required
from portal.public_cache import cached_public

# what the search page reads from its query string (the form's fields and the page): the
# public cache drops anything else (portal/public_cache.py)
SEARCH_PARAMS = ("q", "district", "category", "subject", "colour", "page")


@cached_public("institutions", params=SEARCH_PARAMS)
def search(request):
    form = SearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    results = selectors.public_search(
        q=data.get("q") or "", district=data.get("district"), category=data.get("category"),
        subject=data.get("subject"), list_colour=data.get("colour"),
    )  # fmt: skip
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "institutions/search.html", {
        "form": form, "page": page, "labels": colour.LABELS, "querystring": query.urlencode(),
    })  # fmt: skip


@cached_public("institutions", params=())
def detail(request, pk):
    try:
        institution = selectors.detail(pk)
    except Institution.DoesNotExist:
        raise Http404 from None
    today = timezone.localdate()
    verdict = colour.verdict(institution, today=today)
    account = getattr(institution, "supervised_account", None)
    return render(request, "institutions/detail.html", {
        "institution": institution, "verdict": verdict,
        "account": account if account and account.active else None,
        "changed_at": selectors.list_changed_at(institution, today=today),
        "courses": institution.courses.all(), "today": today,
        # 处理记录: sanctions and 通报 (no inspector, attendee or complainant)
        "record": enforcement_selectors.institution_record(institution.pk),
    })  # fmt: skip


@bureau_required(line="institutions", perm="institutions.view_institution")
def board(request):
    district_id = params.query_id(request, "district")
    district = district_id and District.objects.filter(pk=district_id).first()
    category = params.query_choice(request, "category", Institution.Category.choices, "")
    rows = list(selectors.board(district=district, category=category))
    G = Institution.Governance
    subject_rows = [r for r in rows if r.category == Institution.Category.SUBJECT]
    counts = {
        "total": len(rows),
        "subject": len(subject_rows),
        "reduced": sum(r.governance in (G.DEREGISTERED, G.STRIPPED, G.CONVERTED)
                       for r in subject_rows),
        "converted": sum(r.governance == G.CONVERTED for r in subject_rows),
        "converting": sum(r.governance == G.CONVERTING for r in subject_rows),
        "deregistered": sum(r.governance == G.DEREGISTERED for r in subject_rows),
        "supervised": sum(bool(r.supervised) for r in rows),
    }  # fmt: skip
    for r in rows:
        r.reduction_state = (
            "done" if r.governance in (G.DEREGISTERED, G.STRIPPED, G.CONVERTED)
            else "doing" if r.governance in (G.CONVERTING, G.STRIPPING, G.DEREGISTERING)
            else "todo" if r.category == Institution.Category.SUBJECT else "na"
        )  # fmt: skip
        r.conversion_state = (
            "done" if r.governance == G.CONVERTED
            else "doing" if r.governance == G.CONVERTING
            else "na" if r.category != Institution.Category.SUBJECT
            or r.governance in (G.DEREGISTERED, G.STRIPPED, G.DEREGISTERING, G.STRIPPING)
            else "todo"
        )  # fmt: skip
        r.escrow_state = "done" if r.supervised else "todo"
    return render(request, "institutions/board.html", {
        "rows": rows, "counts": counts, "districts": District.objects.order_by("code"),
        "district": district, "category": category,
        "categories": Institution.Category.choices,
        "states": {"done": "已完成", "doing": "办理中", "todo": "未开始", "na": "不适用"},
    })  # fmt: skip
