"""Pages of letters to parents (致家长的一封信), mounted at /letters/ (namespace "letter").

- Bureau staff of 基础教育, a school's principal or 教导处: write a letter (a school within
  its own school only), the letters their side sent, each with its read rates per school
  and class.
- Parents: their letters (``inbox``); opening one marks it read; a letter not addressed to
  them is a 404.

The doors stay thin: parse, call one service of governance/letters.py, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from governance import letter_selectors as selectors
from governance import letters
from governance.letter_forms import LetterForm
from portal.permissions import PARENT, is_bureau, kind_required, passes

ERROR_STATUS = 400


def _form(request, data=None):
    return LetterForm(
        data,
        bureau=is_bureau(request.user, "governance"),
        districts=selectors.district_options(),
        schools=selectors.school_options(request.user),
        classes=selectors.class_options(request.user),
    )


@passes(letters.may_send)
def sent(request):
    return render(request, "governance/letter/sent.html", {"rows": selectors.sent(request.user)})


@passes(letters.may_send)
def compose(request):
    form = _form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            letter = letters.letter_send(
                actor=request.user,
                title=data["title"],
                body=data["body"],
                district_id=data.get("district"),
                school_ids=data["schools"],
                grades=data["grades"],
                class_ids=data["classes"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"已发送给 {letter.deliveries.count()} 位家长。")
            return redirect("letter:detail", pk=letter.pk)
    status = ERROR_STATUS if form.errors else 200
    return render(request, "governance/letter/compose.html", {"form": form}, status=status)


@passes(letters.may_send)
def detail(request, pk):
    letter = selectors.sent_letter(request.user, pk)
    return render(
        request,
        "governance/letter/detail.html",
        {"letter": letter, "rates": selectors.read_rates(letter)},
    )


@kind_required(PARENT)
def inbox(request):
    return render(request, "governance/letter/inbox.html", {"rows": selectors.inbox(request.user)})


@kind_required(PARENT)
def read(request, pk):
    letter = selectors.inbox_letter(request.user, pk)
    letters.letter_open(user=request.user, letter=letter)
    return render(request, "governance/letter/read.html", {"letter": letter})
