"""Letters to parents (致家长的一封信): every write (issue 18, part 6).

Bureau staff of 基础教育 write to the parents of a district, narrowed to schools, grades or
classes; a school's principal or 教导处 writes within their own school only (another
school, or a class of another school, is refused with the rule named, nothing written).
Each parent of a pupil in the audience gets one copy (ParentLetterDelivery, through their
first such child's school and class, for the read rates) and one inbox notice
(portal.notices.notify: after the commit, once per parent under the notices' UNIQUE key), so
the daily e-mail digest carries it too. Opening the letter marks the notice read
(``letter_open``): the read receipt the sender's rates count.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.letter_models import ParentLetter, ParentLetterDelivery
from portal.audit import audit_record
from portal.models import Child, District, Notice, School, SchoolClass
from portal.notices import notify
from portal.permissions import is_bureau, is_school_manager, require


def may_send(user) -> bool:
    return is_bureau(user, "governance") or is_school_manager(user)


def _ids(values) -> list[int]:
    return sorted({int(v) for v in values or ()})


def _audience(district, schools, grades, classes):
    children = Child.objects.filter(school__district=district, parents__isnull=False)
    if schools:
        children = children.filter(school__in=schools)
    if grades:
        children = children.filter(school_class__grade__in=grades)
    if classes:
        children = children.filter(school_class__in=classes)
    first = {}
    for user_id, school_id, class_id in children.order_by("pk").values_list(
        "parents__user_id", "school_id", "school_class_id"
    ):
        first.setdefault(user_id, (school_id, class_id))
    return first


def letter_send(
    *, actor, title, body, district_id=None, school_ids=(), grades=(), class_ids=()
) -> ParentLetter:
    require(may_send(actor))
    title, body = (title or "").strip(), (body or "").strip()
    school_ids, class_ids, grades = _ids(school_ids), _ids(class_ids), _ids(grades)
    errors = {}
    if not title:
        errors["title"] = "请填写标题。"
    elif len(title) > settings.PORTAL_LETTER_TITLE_MAX_CHARS:
        errors["title"] = f"标题最多 {settings.PORTAL_LETTER_TITLE_MAX_CHARS} 个字。"
    if not body:
        errors["body"] = "请填写正文。"
    elif len(body) > settings.PORTAL_LETTER_BODY_MAX_CHARS:
        errors["body"] = f"正文最多 {settings.PORTAL_LETTER_BODY_MAX_CHARS} 个字。"
    if any(g < 1 or g > 9 for g in grades):
        errors["grades"] = "年级应为一至九年级。"
    own_school = None
    if is_bureau(actor, "governance"):
        district = District.objects.filter(pk=district_id).first() if district_id else None
        if district is None:
            errors["district"] = "请选择区。"
    else:  # a school's manager: their own school, nothing else
        own_school = actor.school_staff.school
        district = own_school.district
        if any(pk != own_school.pk for pk in school_ids):
            errors["schools"] = "学校只能向本校家长发信，不能选择其他学校。"
        school_ids = [own_school.pk]
    schools = list(School.objects.filter(pk__in=school_ids)) if school_ids else []
    classes = list(SchoolClass.objects.filter(pk__in=class_ids)) if class_ids else []
    if district is not None and "schools" not in errors:
        if len(schools) != len(school_ids) or any(s.district_id != district.pk for s in schools):
            errors["schools"] = "所选学校不在该区。"
    if district is not None:
        if len(classes) != len(class_ids):
            errors["classes"] = "所选班级不存在。"
        elif own_school is not None and any(c.school_id != own_school.pk for c in classes):
            errors["classes"] = "学校只能向本校班级的家长发信，不能选择其他学校的班级。"
        elif schools and any(c.school_id not in school_ids for c in classes):
            errors["classes"] = "所选班级不在所选学校中。"
        elif any(c.school.district_id != district.pk for c in classes):
            errors["classes"] = "所选班级不在该区。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        audience = _audience(district, schools, grades, classes)
        if not audience:
            raise ValidationError({"__all__": "所选范围内没有家长账号，信件未发送。"})
        letter = ParentLetter.objects.create(
            district=district,
            grades=grades,
            title=title,
            body=body,
            sender=actor,
            sender_school=own_school,
        )
        letter.schools.set(schools)
        letter.classes.set(classes)
        ParentLetterDelivery.objects.bulk_create(
            [
                ParentLetterDelivery(letter=letter, user_id=u, school_id=s, school_class_id=c)
                for u, (s, c) in sorted(audience.items())
            ]
        )
        notify(
            list(audience),
            key=letter.notice_key,
            message=f"致家长的一封信：{title}",
            url=f"/letters/inbox/{letter.pk}/",
        )
        audit_record(
            actor=actor,
            action="governance.letter.sent",
            obj=letter,
            new={
                "district": district.pk,
                "schools": school_ids,
                "grades": grades,
                "classes": class_ids,
                "recipients": len(audience),
            },
        )
    return letter


def letter_open(*, user, letter: ParentLetter) -> bool:
    """The parent opened the letter: its inbox notice is marked read (the read receipt).
    True the first time."""
    with transaction.atomic():
        n = Notice.objects.filter(user=user, key=letter.notice_key, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        if n:
            audit_record(actor=user, action="governance.letter.read", obj=letter)
    return bool(n)
