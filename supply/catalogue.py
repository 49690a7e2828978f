"""The district course catalogue (公益课程包): every write (issue 19, part 3).

点单 → 派单 → 送单:

1. **Publish.** A member of a venue or club (an Organisation of kind museum, science,
   library, club or other; a provider of paid after-school courses is not a venue) publishes
   a free package for a term of a district: title, kind, grades, number of visits (场次),
   places per visit (每场名额), travel to the venue (到馆) or in school (送课进校), and its
   service window, which must lie within the term. Its capacity is visits × places.
   Bureau staff of 课后服务 may withdraw a package (with a reason) until a visit of it has
   been recorded; its orders are then marked withdrawn and the schools told.
2. **Order (点单).** A school's principal or 教导处 orders a published package of its own
   district's term: pupils (1 … the package's capacity; more is refused naming the rule),
   1 to ``MAX_PREFERRED_DATES`` preferred dates within the window, a note. One order per
   school and package (a second is refused; the database's UNIQUE constraint backs it). A
   package for grades the school does not teach is refused.
3. **Dispatch (派单)** by bureau staff of 课后服务, once per package, which closes its
   ordering. A visit serves one school, so an order needs ⌈pupils ÷ places per visit⌉
   visits. **The rule**, recorded on every order (rank, reason, and what it saw: rural and
   the school's pupil count at dispatch):

   - orders are ranked by (1) rural schools first (``SchoolLocality.rural``, set by the
     bureau; a school without a row is not rural), then (2) small schools first (fewer
     pupils — the school's portal ``Child`` rows — than ``CATALOGUE_SMALL_SCHOOL_PUPILS``,
     100 by default: 国办发〔2018〕27号's 乡村小规模学校), then (3) the earlier order time,
     then (4) the lower order id (two orders in the same instant);
   - in that order each order gets min(visits it needs, visits left) visits, and
     min(pupils, granted visits × places) places: granted in full (已派单), in part (部分派单)
     or nothing (未派到) once the visits run out. When demand does not exceed supply every
     order is granted in full, ranked all the same.

4. **Deliver (送单).** The venue records each visit of a granted order (date within the
   window and not in the future, pupils reached 1 … places per visit, at most the granted
   number of visits); the school's principal or 教导处 confirms each visit once and rates it
   1–5. A granted order with fewer visits than granted ``CATALOGUE_DELIVERY_GRACE_DAYS``
   after the window ends is a nightly finding (supply/catalogue_checks.py).

Every write checks who may (portal.permissions), validates with Chinese messages keyed by
the form's field, locks what it changes (the package row serialises orders, dispatch and
withdrawal of one package), and writes its audit row in the same transaction.
"""

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from portal.audit import audit_record
from portal.locks import locked
from portal.models import GRADE_NAMES, Child, School, SchoolPeriod, SchoolStaff
from portal.notices import notify
from portal.permissions import is_bureau, is_organisation_member, is_school_manager, require
from supply.account_models import Organisation
from supply.catalogue_models import (
    CatalogueOrder,
    CataloguePackage,
    CatalogueVisit,
    SchoolLocality,
)

VENUE_KINDS = (
    Organisation.Kind.MUSEUM,
    Organisation.Kind.SCIENCE,
    Organisation.Kind.LIBRARY,
    Organisation.Kind.CLUB,
    Organisation.Kind.OTHER,
)
MAX_PREFERRED_DATES = 3
MAX_VISITS = 200  # a package's visits and places per visit: a sanity bound, not a policy
MAX_PLACES = 1000
TITLE_MAX = 100
DESCRIPTION_MAX = 2000
NOTE_MAX = 200
REASON_MAX = 200
COMMENT_MAX = 200

Status = CataloguePackage.Status
OrderStatus = CatalogueOrder.Status


# --- who may -------------------------------------------------------------------------------


def may_publish(user) -> bool:
    """A member of a venue or club (not of a provider of paid courses)."""
    return (
        is_organisation_member(user) and user.organisation_member.organisation.kind in VENUE_KINDS
    )


def may_order(user) -> bool:
    return is_school_manager(user)


def may_oversee(user) -> bool:
    """Bureau staff of 课后服务 (the supply app's line): reads."""
    return is_bureau(user, "supply")


def may_dispatch(user) -> bool:
    return is_bureau(user, "supply", "supply.change_catalogueorder")


def may_withdraw(user) -> bool:
    return is_bureau(user, "supply", "supply.change_cataloguepackage")


def may_set_locality(user) -> bool:
    return is_bureau(user, "supply", "supply.change_schoollocality")


def may_see_catalogue(user) -> bool:
    return may_publish(user) or may_order(user) or may_oversee(user)


# --- helpers -------------------------------------------------------------------------------


def _manager_ids(school_id) -> list[int]:
    return list(
        SchoolStaff.objects.filter(
            school_id=school_id, role__in=SchoolStaff.MANAGER_ROLES
        ).values_list("user_id", flat=True)
    )


def _member_ids(organisation_id) -> list[int]:
    from supply.account_models import OrganisationMember

    return list(
        OrganisationMember.objects.filter(organisation_id=organisation_id, active=True).values_list(
            "user_id", flat=True
        )
    )


def _grades_label(grades) -> str:
    return "、".join(f"{GRADE_NAMES.get(g, g)}年级" for g in sorted(grades))


def visits_needed(pupils: int, places_per_visit: int) -> int:
    """A visit serves one school: ⌈pupils ÷ places per visit⌉."""
    return math.ceil(pupils / places_per_visit)


def is_small(pupils: int) -> bool:
    return pupils < settings.CATALOGUE_SMALL_SCHOOL_PUPILS


# --- 1. publish and withdraw ---------------------------------------------------------------


def package_publish(
    *, actor, term_id, title, kind, grades, visits, places_per_visit, mode, window_start,
    window_end, description="",
) -> CataloguePackage:  # fmt: skip
    require(may_publish(actor))
    organisation = actor.organisation_member.organisation
    title, description = (title or "").strip(), (description or "").strip()
    grades = sorted({int(g) for g in grades or ()})
    errors = {}
    if not title:
        errors["title"] = "请填写课程包名称。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"课程包名称最多 {TITLE_MAX} 个字。"
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"内容简介最多 {DESCRIPTION_MAX} 个字。"
    if kind not in CataloguePackage.Kind.values:
        errors["kind"] = "请选择类别。"
    if mode not in CataloguePackage.Mode.values:
        errors["mode"] = "请选择形式：到馆或送课进校。"
    if not grades:
        errors["grades"] = "请选择适用年级。"
    elif any(g < 1 or g > 9 for g in grades):
        errors["grades"] = "适用年级应为一至九年级。"
    if visits is None or visits < 1:
        errors["visits"] = "场次至少为 1。"
    elif visits > MAX_VISITS:
        errors["visits"] = f"场次最多 {MAX_VISITS} 场。"
    if places_per_visit is None or places_per_visit < 1:
        errors["places_per_visit"] = "每场名额至少为 1。"
    elif places_per_visit > MAX_PLACES:
        errors["places_per_visit"] = f"每场名额最多 {MAX_PLACES} 人。"
    term = SchoolPeriod.objects.filter(pk=term_id, kind=SchoolPeriod.Kind.TERM).first()
    if term is None:
        errors["term"] = "请选择学期。"
    elif term.status not in (SchoolPeriod.Status.DRAFT, SchoolPeriod.Status.ACTIVE):
        errors["term"] = f"{term.name}已{term.get_status_display()}，不能再发布课程包。"
    if window_start is None or window_end is None:
        errors["window_start"] = "请填写服务起止日期。"
    elif window_end < window_start:
        errors["window_end"] = "服务结束日期不能早于开始日期。"
    elif term is not None and not (term.start <= window_start and window_end <= term.end):
        errors["window_start"] = (
            f"服务时段应在所选学期内（{term.start:%Y-%m-%d}至{term.end:%Y-%m-%d}）。"
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        package = CataloguePackage.objects.create(
            organisation=organisation, term=term, title=title, kind=kind,
            description=description, grades=grades, visits=visits,
            places_per_visit=places_per_visit, mode=mode, window_start=window_start,
            window_end=window_end, created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="supply.catalogue.package_published",
            obj=package,
            new={
                "organisation": organisation.pk, "term": term.pk, "grades": grades,
                "visits": visits, "places_per_visit": places_per_visit, "mode": mode,
                "window": [window_start, window_end],
            },
        )  # fmt: skip
    return package


def package_withdraw(*, actor, package_id, reason) -> CataloguePackage:
    require(may_withdraw(actor))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤下原因。"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"撤下原因最多 {REASON_MAX} 个字。"})
    with transaction.atomic():
        package = locked(CataloguePackage.objects.filter(pk=package_id)).get()
        if package.status == Status.WITHDRAWN:
            raise ValidationError({"reason": "该课程包已撤下。"})
        if CatalogueVisit.objects.filter(order__package=package).exists():
            raise ValidationError(
                {"reason": "该课程包已有送课记录，不能撤下（已送达的服务须保留）。"}
            )
        old = package.status
        package.status = Status.WITHDRAWN
        package.withdrawn_reason = reason
        package.save(update_fields=["status", "withdrawn_reason"])
        orders = list(locked(CatalogueOrder.objects.filter(package=package)))
        CatalogueOrder.objects.filter(pk__in=[o.pk for o in orders]).update(
            status=OrderStatus.WITHDRAWN
        )
        users = [u for o in orders for u in _manager_ids(o.school_id)]
        notify(
            users,
            key=f"supply.catalogue.withdrawn:{package.pk}",
            message=f"公益课程包“{package.title}”已由教育局撤下：{reason}",
            url="/catalogue/orders/",
        )
        audit_record(
            actor=actor,
            action="supply.catalogue.package_withdrawn",
            obj=package,
            old={"status": old},
            new={"status": package.status, "reason": reason, "orders": len(orders)},
        )
    return package


# --- 2. order ------------------------------------------------------------------------------


def order_place(*, actor, package_id, pupils, preferred_dates=(), note="") -> CatalogueOrder:
    require(may_order(actor))
    school = actor.school_staff.school
    note = (note or "").strip()
    dates = sorted(set(preferred_dates or ()))
    with transaction.atomic():
        package = (
            locked(CataloguePackage.objects.filter(pk=package_id), of=("self",))
            .select_related("term", "organisation")
            .first()
        )
        if package is None or package.term.district_id != school.district_id:
            raise ValidationError({"__all__": "该课程包不面向本区学校。"})
        errors = {}
        if package.status == Status.WITHDRAWN:
            errors["__all__"] = "该课程包已撤下，不能点单。"
        elif package.status == Status.DISPATCHED:
            errors["__all__"] = "该课程包已派单，不再接受点单。"
        elif package.term.status not in (SchoolPeriod.Status.DRAFT, SchoolPeriod.Status.ACTIVE):
            errors["__all__"] = f"{package.term.name}已结束，不能点单。"
        elif not set(package.grades) & set(school.grades()):
            errors["__all__"] = (
                f"该课程包面向{_grades_label(package.grades)}，本校（{school.get_stage_display()}）"
                "没有这些年级。"
            )
        if pupils is None or pupils < 1:
            errors["pupils"] = "学生人数至少为 1。"
        elif pupils > package.capacity:
            errors["pupils"] = (
                f"点单人数 {pupils} 人超过课程包容量：场次 {package.visits} × 每场名额 "
                f"{package.places_per_visit} 人 = {package.capacity} 人（点单不得超过容量）。"
            )
        if not dates:
            errors["preferred_dates"] = "请至少填写一个希望日期。"
        elif len(dates) > MAX_PREFERRED_DATES:
            errors["preferred_dates"] = f"希望日期最多填写 {MAX_PREFERRED_DATES} 个。"
        else:
            outside = [d for d in dates if not package.window_start <= d <= package.window_end]
            if outside:
                errors["preferred_dates"] = (
                    f"希望日期 {outside[0]:%Y-%m-%d} 不在服务时段内"
                    f"（{package.window_start:%Y-%m-%d}至{package.window_end:%Y-%m-%d}）。"
                )
        if len(note) > NOTE_MAX:
            errors["note"] = f"备注最多 {NOTE_MAX} 个字。"
        if not errors and CatalogueOrder.objects.filter(package=package, school=school).exists():
            errors["__all__"] = "本校已点过该课程包（每校每个课程包限点一次）。"
        if errors:
            raise ValidationError(errors)
        try:
            with transaction.atomic():
                order = CatalogueOrder.objects.create(
                    package=package, school=school, pupils=pupils,
                    preferred_dates=[d.isoformat() for d in dates], note=note,
                    ordered_by=actor,
                )  # fmt: skip
        except IntegrityError:
            raise ValidationError(
                {"__all__": "本校已点过该课程包（每校每个课程包限点一次）。"}
            ) from None
        notify(
            _member_ids(package.organisation_id),
            key=f"supply.catalogue.ordered:{order.pk}",
            message=f"{school.name}点单“{package.title}”，{pupils} 人。",
            url=f"/catalogue/orders/{order.pk}/",
        )
        audit_record(
            actor=actor,
            action="supply.catalogue.ordered",
            obj=order,
            new={"package": package.pk, "school": school.pk, "pupils": pupils,
                 "preferred_dates": order.preferred_dates},
        )  # fmt: skip
    return order


# --- 3. dispatch ---------------------------------------------------------------------------


def rank_key(order, rural: bool, school_pupils: int):
    """The dispatch rule's sort key (see the module's docstring): rural first, small first,
    earlier order time, lower id."""
    return (not rural, not is_small(school_pupils), order.ordered_at, order.pk)


def _reason(rank, rural, school_pupils, needed, granted, places, order) -> str:
    bits = [f"第 {rank} 顺位"]
    bits.append("农村学校" if rural else "城镇学校")
    small = settings.CATALOGUE_SMALL_SCHOOL_PUPILS
    if is_small(school_pupils):
        bits.append(f"小规模学校（在校生 {school_pupils} 人，少于 {small} 人）")
    else:
        bits.append(f"在校生 {school_pupils} 人（不少于 {small} 人）")
    at = timezone.localtime(order.ordered_at)
    bits.append(f"点单时间 {at:%Y-%m-%d %H:%M:%S}")
    if granted == needed:
        bits.append(f"派 {granted} 场、{places} 人，满足点单")
    elif granted:
        bits.append(f"场次不足，派 {granted} 场、{places} 人（需 {needed} 场）")
    else:
        bits.append(f"场次已派完，未派到（需 {needed} 场）")
    return "；".join(bits) + "。"


def dispatch(*, actor, package_id) -> list[CatalogueOrder]:
    """派单: apply the rule to the package's orders once; returns them in rank order."""
    require(may_dispatch(actor))
    with transaction.atomic():
        package = locked(CataloguePackage.objects.filter(pk=package_id)).get()
        if package.status == Status.WITHDRAWN:
            raise ValidationError({"__all__": "该课程包已撤下，不能派单。"})
        if package.status == Status.DISPATCHED:
            raise ValidationError({"__all__": "该课程包已派单（每个课程包只派单一次）。"})
        orders = list(
            locked(CatalogueOrder.objects.filter(package=package)).order_by("ordered_at", "pk")
        )
        if not orders:
            raise ValidationError({"__all__": "该课程包还没有学校点单，无需派单。"})
        school_ids = [o.school_id for o in orders]
        rural = dict(
            SchoolLocality.objects.filter(school_id__in=school_ids).values_list(
                "school_id", "rural"
            )
        )
        sizes = dict(
            Child.objects.filter(school_id__in=school_ids)
            .values_list("school_id")
            .annotate(n=Count("pk"))
            .values_list("school_id", "n")
        )
        orders.sort(
            key=lambda o: rank_key(o, rural.get(o.school_id, False), sizes.get(o.school_id, 0))
        )
        left = package.visits
        result = []
        for rank, order in enumerate(orders, start=1):
            is_rural, n = rural.get(order.school_id, False), sizes.get(order.school_id, 0)
            needed = visits_needed(order.pupils, package.places_per_visit)
            granted = min(needed, left)
            left -= granted
            places = min(order.pupils, granted * package.places_per_visit)
            order.granted_visits, order.granted_places = granted, places
            order.rank, order.rural, order.school_pupils = rank, is_rural, n
            order.status = (
                OrderStatus.GRANTED
                if granted == needed
                else OrderStatus.PARTLY
                if granted
                else OrderStatus.NOT_GRANTED
            )
            order.reason = _reason(rank, is_rural, n, needed, granted, places, order)
            result.append(
                {"order": order.pk, "school": order.school_id, "rank": rank, "rural": is_rural,
                 "pupils": n, "needed": needed, "visits": granted, "places": places}
            )  # fmt: skip
        CatalogueOrder.objects.bulk_update(
            orders,
            ["granted_visits", "granted_places", "rank", "rural", "school_pupils", "status",
             "reason"],
        )  # fmt: skip
        package.status = Status.DISPATCHED
        package.dispatched_at = timezone.now()
        package.dispatched_by = actor
        package.save(update_fields=["status", "dispatched_at", "dispatched_by"])
        for order in orders:
            notify(
                _manager_ids(order.school_id),
                key=f"supply.catalogue.dispatched:{order.pk}",
                message=f"公益课程包“{package.title}”派单结果：{order.get_status_display()}"
                f"（{order.granted_visits} 场、{order.granted_places} 人）。",
                url=f"/catalogue/orders/{order.pk}/",
            )
        notify(
            _member_ids(package.organisation_id),
            key=f"supply.catalogue.dispatched_venue:{package.pk}",
            message=f"公益课程包“{package.title}”已派单，请按派单结果送课。",
            url=f"/catalogue/packages/{package.pk}/",
        )
        audit_record(
            actor=actor,
            action="supply.catalogue.dispatched",
            obj=package,
            old={"status": Status.PUBLISHED},
            new={
                "rule": "rural, small, order time, id",
                "small_below": settings.CATALOGUE_SMALL_SCHOOL_PUPILS,
                "visits": package.visits,
                "orders": result,
            },
        )
    return orders


# --- 4. deliver ----------------------------------------------------------------------------


def visit_record(*, actor, order_id, date, pupils_reached) -> CatalogueVisit:
    require(may_publish(actor))
    organisation_id = actor.organisation_member.organisation_id
    with transaction.atomic():
        order = (
            locked(CatalogueOrder.objects.filter(pk=order_id), of=("self",))
            .select_related("package", "school")
            .first()
        )
        require(order is not None and order.package.organisation_id == organisation_id)
        package = order.package
        errors = {}
        done = CatalogueVisit.objects.filter(order=order).count()
        if not order.is_granted:
            errors["__all__"] = f"该点单{order.get_status_display()}，没有派单场次可记录。"
        elif done >= order.granted_visits:
            errors["__all__"] = (
                f"该点单派单 {order.granted_visits} 场，已记录 {done} 场，不能再记录。"
            )
        today = timezone.localdate()
        if date is None:
            errors["date"] = "请填写送课日期。"
        elif date > today:
            errors["date"] = "送课日期不能晚于今天（送课后再记录）。"
        elif not package.window_start <= date <= package.window_end:
            errors["date"] = (
                f"送课日期应在服务时段内（{package.window_start:%Y-%m-%d}至"
                f"{package.window_end:%Y-%m-%d}）。"
            )
        if pupils_reached is None or pupils_reached < 1:
            errors["pupils_reached"] = "服务学生数至少为 1。"
        elif pupils_reached > package.places_per_visit:
            errors["pupils_reached"] = (
                f"服务学生数 {pupils_reached} 人超过每场名额 {package.places_per_visit} 人。"
            )
        if errors:
            raise ValidationError(errors)
        visit = CatalogueVisit.objects.create(
            order=order, date=date, pupils_reached=pupils_reached, recorded_by=actor
        )
        notify(
            _manager_ids(order.school_id),
            key=f"supply.catalogue.visit:{visit.pk}",
            message=f"“{package.title}”{date:%m月%d日}送课已记录（{pupils_reached} 人），"
            "请确认并评分。",
            url=f"/catalogue/orders/{order.pk}/",
        )
        audit_record(
            actor=actor,
            action="supply.catalogue.visit_recorded",
            obj=visit,
            new={"order": order.pk, "date": date, "pupils_reached": pupils_reached},
        )
    return visit


def visit_confirm(*, actor, visit_id, rating, comment="") -> CatalogueVisit:
    require(may_order(actor))
    comment = (comment or "").strip()
    with transaction.atomic():
        visit = (
            locked(CatalogueVisit.objects.filter(pk=visit_id), of=("self",))
            .select_related("order")
            .first()
        )
        require(visit is not None and is_school_manager(actor, visit.order.school_id))
        errors = {}
        if visit.confirmed_at is not None:
            errors["__all__"] = "该次送课已确认评分，不能重复确认。"
        if rating is None or not 1 <= rating <= 5:
            errors["rating"] = "评分应为 1 至 5 分。"
        if len(comment) > COMMENT_MAX:
            errors["comment"] = f"评价最多 {COMMENT_MAX} 个字。"
        if errors:
            raise ValidationError(errors)
        visit.rating, visit.comment = rating, comment
        visit.confirmed_by, visit.confirmed_at = actor, timezone.now()
        visit.save(update_fields=["rating", "comment", "confirmed_by", "confirmed_at"])
        audit_record(
            actor=actor,
            action="supply.catalogue.visit_confirmed",
            obj=visit,
            new={"rating": rating, "comment": comment},
        )
    return visit


# --- the bureau's register of rural schools ------------------------------------------------


def locality_set(*, actor, school_id, rural: bool) -> SchoolLocality:
    require(may_set_locality(actor))
    with transaction.atomic():
        school = locked(School.objects.filter(pk=school_id)).first()  # serialises the create
        if school is None:
            raise ValidationError({"school": "学校不存在。"})
        row = locked(SchoolLocality.objects.filter(school=school)).first()
        old = None if row is None else row.rural
        if row is None:
            row = SchoolLocality.objects.create(school=school, rural=rural, set_by=actor)
        else:
            row.rural, row.set_by = rural, actor
            row.save(update_fields=["rural", "set_by", "set_at"])
        audit_record(
            actor=actor,
            action="supply.catalogue.locality_set",
            obj=row,
            old={"rural": old},
            new={"rural": rural},
        )
    return row
