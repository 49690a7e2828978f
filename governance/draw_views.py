"""Pages of 阳光分班, mounted at /draw/ (namespace "draw").

- The school's principal or 教导处: their school's draws, a new draw, the list (textarea or
  Excel/CSV), running the published draw at its time. Another school's draw: 404.
- Bureau 基础教育 staff: every draw, publishing the commitment, the re-draw decision.
- Everyone, no login: the published draws, each with its commitments, parameters, seed
  (once drawn) and classes with masked names, and the JSON for tools/verify_draw.py.
Teachers and parents are refused the staff pages (403): they never see the unmasked list.

The doors stay thin: parse a form, call one service of governance/draw.py, render.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance import draw as draws
from governance import draw_selectors as selectors
from governance.draw_forms import CreateForm, ListsForm, PublishForm, RedrawForm, put_errors
from governance.draw_models import Draw
from portal import params
from portal.permissions import bureau_required, is_bureau, passes, school_manager_required

ERROR_STATUS = 400
S = Draw.Status


# --- staff: school managers and bureau staff ----------------------------------------------------


@passes(selectors.may_see_list)
def index(request):
    status = params.query_choice(request, "status", S.choices)
    rows = selectors.staff_draws(request.user, status=status)
    return render(request, "governance/draw/index.html", {
        "rows": rows[:500], "statuses": S.choices, "status": status or "",
        "is_bureau": is_bureau(request.user, draws.LINE),
    })  # fmt: skip


@school_manager_required
def create(request):
    form = CreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                draw = draws.draw_create(
                    actor=request.user, grade=data["grade"], year=data["year"],
                    class_count=data["class_count"], scheduled_at=data["scheduled_at"],
                )  # fmt: skip
            except ValidationError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, "已新建分班，请录入学生名单。")
                return redirect("draw:lists", pk=draw.pk)
        status = ERROR_STATUS
    return render(request, "governance/draw/create.html", {"form": form}, status=status)


def _detail_page(request, draw, *, publish_form=None, redraw_form=None, status=200):
    if publish_form is None:
        publish_form = PublishForm(
            initial={"scheduled_at": draw.scheduled_at, "allow_bands": draw.bands_allowed}
        )
    bureau = is_bureau(request.user, draws.LINE)
    return render(request, "governance/draw/detail.html", {
        "d": draw, "pupils": selectors.staff_pupils(draw),
        "classes": selectors.staff_classes(draw), "is_bureau": bureau,
        "is_school": not bureau and draw.school_id == getattr(
            getattr(request.user, "school_staff", None), "school_id", None),
        "publish_form": publish_form, "redraw_form": redraw_form or RedrawForm(),
    }, status=status)  # fmt: skip


@passes(selectors.may_see_list)
def detail(request, pk):
    return _detail_page(request, selectors.staff_draw(request.user, pk))


@school_manager_required
def lists(request, pk):
    draw = selectors.staff_draw(request.user, pk)
    status = 200
    if request.method == "POST":
        form = ListsForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                draws.draw_set_lists(
                    actor=request.user, draw_id=draw.pk, class_count=data["class_count"],
                    pupils_text=data["pupils"],
                    pupils_file=upload.read(draws.list_read_limit()) if upload else None,
                    teachers_text=data["teachers"],
                )  # fmt: skip
            except ValidationError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, "名单已保存，请等待教育局公布承诺。")
                return redirect("draw:detail", pk=draw.pk)
        status = ERROR_STATUS
    else:
        pupils = selectors.staff_pupils(draw)
        form = ListsForm(initial={
            "class_count": draw.class_count, "teachers": "\n".join(draw.teachers),
            "pupils": "\n".join(
                ",".join(x for x in (p.name, p.gender, p.band) if x) for p in pupils),
        })  # fmt: skip
    return render(request, "governance/draw/lists.html", {"d": draw, "form": form},
                  status=status)  # fmt: skip


@bureau_required(line=draws.LINE)
@require_POST
def publish(request, pk):
    draw = selectors.staff_draw(request.user, pk)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            draws.draw_publish(
                actor=request.user, draw_id=draw.pk,
                scheduled_at=form.cleaned_data["scheduled_at"],
                allow_bands=form.cleaned_data["allow_bands"],
            )  # fmt: skip
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, "承诺已公布：随机种子已生成并保密，抽签时公开。")
            return redirect("draw:detail", pk=draw.pk)
    return _detail_page(request, draw, publish_form=form, status=ERROR_STATUS)


@school_manager_required
@require_POST
def run(request, pk):
    draw = selectors.staff_draw(request.user, pk)
    try:
        draws.draw_run(actor=request.user, draw_id=draw.pk)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return _detail_page(request, selectors.staff_draw(request.user, pk), status=ERROR_STATUS)
    messages.success(request, "抽签完成，种子和分班结果已公开。")
    return redirect("draw:detail", pk=draw.pk)


@bureau_required(line=draws.LINE)
@require_POST
def redraw(request, pk):
    draw = selectors.staff_draw(request.user, pk)
    form = RedrawForm(request.POST)
    if form.is_valid():
        try:
            new = draws.draw_redraw(
                actor=request.user, draw_id=draw.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(
                request, f"原分班已作废（理由已公开），新的分班 #{new.pk} 待学校核对名单。"
            )
            return redirect("draw:detail", pk=new.pk)
    return _detail_page(request, draw, redraw_form=form, status=ERROR_STATUS)


# --- public: no login -----------------------------------------------------------------------


def public_list(request):
    return render(
        request, "governance/draw/public_list.html", {"rows": selectors.public_draws()[:200]}
    )


def public(request, pk):
    draw = selectors.public_draw(pk)
    return render(request, "governance/draw/public.html", {
        "d": draw, "pupils": selectors.public_pupils(draw),
        "classes": selectors.public_classes(draw),
    })  # fmt: skip


def public_json(request, pk):
    draw = selectors.public_draw(pk)
    url = request.build_absolute_uri(reverse("draw:json", args=[draw.pk]))
    response = JsonResponse(
        draws.public_json(draw, url), json_dumps_params={"ensure_ascii": False, "indent": 1}
    )
    response["Content-Disposition"] = f'inline; filename="draw-{draw.pk}.json"'
    return response
