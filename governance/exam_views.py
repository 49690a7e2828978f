"""Pages of the exam calendars (考试安排), mounted at /exams/ (namespace "exam").

A school's principal or 教导处 enters their school's exams (refused at entry with the rule
named) and removes them; bureau staff of 基础教育 read every school's calendar. Another
school's exam is a 404. The doors stay thin: parse, call one service of
governance/exams.py, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance import exam_selectors as selectors
from governance import exams
from governance.exam_forms import ExamForm
from portal.permissions import is_bureau, is_school_manager, passes, school_manager_required

ERROR_STATUS = 400


def _may_read(user) -> bool:
    return is_bureau(user, "governance") or is_school_manager(user)


@passes(_may_read)
def calendar(request):
    form = None
    if is_school_manager(request.user):
        school = request.user.school_staff.school
        form = ExamForm(request.POST or None, school=school)
    if request.method == "POST":
        if form is None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied  # the bureau reads calendars; a school enters its own
        if form.is_valid():
            try:
                exam = exams.exam_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"已录入：{exam}")
                return redirect("exam:calendar")
    status = ERROR_STATUS if form is not None and form.errors else 200
    return render(
        request,
        "governance/exam/calendar.html",
        {"form": form, "rows": selectors.exams(request.user)},
        status=status,
    )


@require_POST
@school_manager_required
def delete(request, pk):
    exam = selectors.exam(request.user, pk)
    exams.exam_delete(actor=request.user, exam_id=exam.pk)
    messages.success(request, f"已删除：{exam}")
    return redirect("exam:calendar")
