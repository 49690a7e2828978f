"""Public pages of the whitelist (no login, phone-sized) and the bureau's governance board."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from institutions import colour, selectors
from institutions.forms import SearchForm
from institutions.models import SUBJECT_LABELS, Institution
from portal import params
from portal.models import District
from portal.permissions import bureau_required
from portal.public_cache import cached_public

# what the search page reads from its query string (the form's fields and the page): the
# public cache drops anything else (portal/public_cache.py)
SEARCH_PARAMS = ("q", "district", "category", "subject", "colour", "page")


PER_PAGE = 20


@cached_public("institutions", params=SEARCH_PARAMS)
def search(request):
    # the districts once: the form's choices, its validation and the rows' district names
    districts = selectors.district_names()
    form = SearchForm(request.GET or None, districts=districts)
    data = form.cleaned_data if form.is_valid() else {}
    number = request.GET.get("page", "")
    page = selectors.public_search_page(
        q=data.get("q") or "", district=data.get("district"), category=data.get("category"),
        subject=data.get("subject"), list_colour=data.get("colour"),
        page=int(number) if number.isdigit() else 1, per_page=PER_PAGE,
    )  # fmt: skip
    names = dict(districts)
    # the labels translated once per request, not once per row
    categories = {k: str(v) for k, v in Institution.Category.choices}
    modes = {k: str(v) for k, v in Institution.Mode.choices}
    labels = {k: escape(v) for k, v in colour.LABELS.items()}
    subjects = {}
    separator = _("、")
    detail_url = reverse("institutions:detail", args=[999999999])  # one reverse, not 20
    results = []
    for row in page.rows:
        facts = " · ".join(
            str(part) for part in (
                names.get(row["district_id"], ""), categories.get(row["category"], ""),
                modes.get(row["mode"], ""),
                separator.join(
                    subjects.get(s) or subjects.setdefault(s, str(SUBJECT_LABELS.get(s, s)))
                    for s in row["subjects"] or []
                ),
            ) if part
        )  # fmt: skip
        # each result written here, escaped: 20 rows of template variables cost a page more
        # than its search (bench/whitelist_load.py --profile); the colour is one of three
        # words, the link an integer
        results.append(
            f'<li><span class="badge badge-{row["colour"]}">{labels[row["colour"]]}</span>\n'
            f'    <a href="{detail_url.replace("999999999", str(int(row["id"])))}"'
            f' class="result-title">{escape(row["name"])}</a>\n'
            f'    <div class="muted">{escape(facts)}</div></li>\n'
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "institutions/search.html", {
        "form": form, "controls": form.controls(), "page": page,
        "querystring": query.urlencode(),
        "results": mark_safe("".join(results)),  # noqa: S308 (escaped above)
    })  # fmt: skip


@cached_public("institutions", params=())
def detail(request, pk):
    today = timezone.localdate()
    try:
        page = selectors.public_detail(pk, today=today)
    except Institution.DoesNotExist:
        raise Http404 from None
    institution = page.institution
    # the stored verdict while it holds (no query), else computed from the data
    verdict = colour.stored_verdict(institution, today=today)
    return render(request, "institutions/detail.html", {
        "institution": institution, "verdict": verdict, "account": page.account,
        "changed_at": selectors.list_changed_at(institution, today=today),
        "courses": page.courses, "today": today,
        # 处理记录: sanctions and 通报 (no inspector, attendee or complainant)
        "record": page.record,
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
