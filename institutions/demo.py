"""Demo training institutions of the demo district (示范区), for `make run` (load_demo).

Two hundred institutions, generated from a seeded ``random.Random`` so every run draws the
same names and 统一社会信用代码 (valid check characters, institutions/uscc.py), across every
list colour and every governance state of the 营转非 board: licences valid, expiring within
the 30- and 7-day warning windows, expired, revoked or missing; annual reviews passed,
overdue, to rectify or failed; suspensions; supervised accounts (bank escrow and risk
deposit), some in yellow or red warning; courses with their weekly slots; parents' prepaid
purchases with lessons consumed and confirmed (releases), refunds and disputes. Then
(``load_enforcement``) the enforcement layer: six complaints of several categories and
statuses, one 专项整治 round drawn with a fixed seed and visited (one failed item), a 约谈, a
警告 and a 责令整改, and the 通报 listing them, through institutions/complaints.py and
institutions/enforcement.py.

Every write goes through the register's and the escrow's services (institutions/services.py,
institutions/escrow.py), as bureau staff of the training line (``bureau_training``), so the
audit log, the list-colour history and the ledger are what real use leaves. Two cases need
a word:
  * A supervised account has no service of its own: the admin saves it as an inline formset
    through ``services.institution_inline_save``; the demo builds the same formset and calls
    that same service (so no ORM write there either).
  * Courses that break the price guidance or the training-time rules: ``course_save`` refuses
    them (as it must), yet the nightly checks exist for such rows (courses registered before
    a rule or the calendar changed, institutions/checks.py). The demo needs a few for the
    checks to find, so those few (17, ``Spec.bad_course``, ``Builder._bad_course``) and their
    slots are inserted with bulk_create: the one ORM write of this module.

Idempotent: an institution whose credit code exists is skipped whole, so a second run adds
nothing (and costs one query); the institutions missing are built in one transaction, all or
nothing, so a failed load leaves no half-built institution to be skipped later.
Dates are relative to the day it runs (licences expiring "within 7 days" must be so on the
day of the demo); names, codes and amounts are not.
"""

import datetime as dt
import random
from collections import namedtuple
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.forms import inlineformset_factory
from django.utils import timezone

from institutions import escrow, services, uscc
from institutions.escrow_models import EscrowPolicy, Purchase
from institutions.models import (
    NON_SUBJECT_TYPE,
    SUBJECT_TYPE,
    Course,
    CourseSlot,
    Institution,
    SupervisedAccount,
)
from portal import public_cache
from portal.demo import DISTRICT, refuse_in_production
from portal.models import District
from portal.schoolcalendar import CalendarUnknownDay, day_info

SEED = 20210724  # the day the 双减 opinion was published
# Two hundred: ten pages of the public list, every colour and 治理 state many times over,
# and a load that stays quick (each institution is some eighty queries through the services;
# 300 took twice as long as the rest of the demo and its checks together)
COUNT = 200
ACTOR = "bureau_training"
G = Institution.Governance
Cat = Institution.Category

# (profile, how many of COUNT); the rest are white. A profile decides the list colour.
PROFILES = [
    ("grey_suspended", 5),
    ("grey_unsupervised", 14),
    ("grey_review_overdue", 8),
    ("grey_review_rectify", 5),
    ("grey_review_failed", 4),
    ("black_no_licence", 10),
    ("black_revoked", 5),
    ("black_expired", 14),
    ("black_deregistered", 10),
]
# who has annual reviews: the black ones' colour does not depend on them (and each review
# costs a dozen queries through the service)
REVIEWED = {"white", "grey_suspended", "grey_unsupervised", "grey_review_overdue",
            "grey_review_rectify", "grey_review_failed"}  # fmt: skip
# the governance of the other subject-type institutions (营转非 / 剥离 / 注销 board)
GOVERNANCE = [
    (G.CONVERTED, 35),
    (G.STRIPPED, 20),
    (G.CONVERTING, 15),
    (G.STRIPPING, 10),
    (G.PENDING, 12),
    (G.DEREGISTERING, 8),
]
PATHS = {
    G.PENDING: [],
    G.CONVERTING: [G.CONVERTING],
    G.CONVERTED: [G.CONVERTING, G.CONVERTED],
    G.STRIPPING: [G.STRIPPING],
    G.STRIPPED: [G.STRIPPING, G.STRIPPED],
    G.DEREGISTERING: [G.DEREGISTERING],
    G.DEREGISTERED: [G.DEREGISTERING, G.DEREGISTERED],
}
STEP_NOTES = {
    G.CONVERTING: "已提交营转非申请，民政部门受理",
    G.CONVERTED: "已登记为民办非企业单位（示民证字〔2022〕{n}号）",
    G.STRIPPING: "已提交剥离学科类培训业务方案",
    G.STRIPPED: "学科类培训业务已剥离，经营范围已变更",
    G.DEREGISTERING: "机构申请注销，正在清退学员预收费",
    G.DEREGISTERED: "已注销办学许可证及法人登记（示教注〔2022〕{n}号）",
}

WORDS = list(
    "启明 博学 英才 智慧 育英 明德 致远 求真 睿思 晨光 星辰 阳光 向上 思源 弘文 卓越 "
    "立人 成蹊 知行 明远 行知 新苗 春晖 嘉禾 金桥 青蓝 同心 鸿儒 尚学 慧心 优学 书香 "
    "墨韵 琴韵 艺海 飞扬 凌云 翰林 博雅 格致 乐学 善思 雏鹰 朝阳 启航 远航 逐梦 童心 "
    "未来 彩虹 蓝天 绿茵 北辰 东方 南风 西岭 明珠 锦程 华章 文澜 山海 云帆".split()
)
SUFFIX = {
    Cat.SUBJECT: ["教育培训中心", "文化培训学校", "学科辅导中心", "培训学校", "教育咨询中心"],
    "体育": ["体育俱乐部", "篮球训练营", "游泳培训中心", "跆拳道馆", "足球俱乐部"],
    "文化艺术": ["艺术培训中心", "书画院", "舞蹈学校", "音乐培训中心", "美术工作室"],
    "科技": ["科技创新中心", "机器人工作室", "编程培训中心", "创客空间"],
    "综合实践": ["研学实践中心", "综合实践基地", "围棋培训中心"],
}
COURSE_NAMES = {
    "道德与法治": "道德与法治拓展",
    "语文": "阅读与写作",
    "历史": "历史故事研读",
    "地理": "地理探究",
    "数学": "思维数学",
    "外语": "英语听说",
    "物理": "物理实验探究",
    "化学": "趣味化学",
    "生物": "生命科学探究",
    "体育": "体能与球类训练",
    "文化艺术": "少儿美术与书法",
    "科技": "机器人与编程",
    "综合实践": "围棋与研学实践",
}
ROADS = ["人民路", "建设路", "学府路", "文昌路", "中山路", "解放路", "新华路", "育才路"]
BANKS = [
    "中国工商银行示范区支行",
    "中国建设银行示范区支行",
    "中国农业银行示范区支行",
    "中国银行示范区支行",
    "示范区农村商业银行",
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
GIVEN = "子涵 欣怡 浩然 梓萱 一诺 俊杰 雨轩 思远 佳怡 宇航 诗琪 铭泽 若汐 嘉懿 明轩".split()
PARENT_TITLES = ["女士", "先生"]

StatementRow = namedtuple("StatementRow", "row_number date amount reference counterparty")


@dataclass
class Spec:
    """One demo institution, drawn once; ``*_days`` are offsets from the day of the run."""

    index: int
    profile: str
    name: str
    credit_code: str
    category: str
    subjects: list
    mode: str
    scale: int
    governance: str = G.NOT_APPLICABLE
    licence_days: int = 0  # expiry: today + licence_days
    account: str = ""  # "escrow" / "deposit" / "" (none)
    warning: str = ""  # "", "yellow", "red"
    bad_course: str = ""  # "", "price", "late", "saturday", "online_long"
    purchases: int = 0


def _credit_code(rng: random.Random, prefix: str) -> str:
    # 登记管理部门 + 机构类别 (91 enterprise, 52 民办非企业单位), the district's code, a
    # 9-character organisation code, and the GB 32100-2015 check character
    body = prefix + DISTRICT[0] + "".join(rng.choice(uscc.CHARSET) for _ in range(9))
    return body + uscc.check_character(body)


def _counts(rng, table, total):
    """A shuffled list of ``total`` values, each of ``table`` as often as its weight says
    (scaled to ``total``)."""
    weight = sum(n for _, n in table)
    out = []
    for value, n in table:
        out += [value] * round(n * total / weight)
    out = (out + [table[0][0]] * total)[:total]
    rng.shuffle(out)
    return out


def plan(count: int = COUNT) -> list[Spec]:
    """The demo institutions, the same list on every run (nothing here reads the date)."""
    rng = random.Random(SEED)
    profiles = []
    for profile, n in PROFILES:
        profiles += [profile] * n
    profiles = (profiles + ["white"] * count)[:count]
    rng.shuffle(profiles)
    subject_count = sum(1 for p in profiles if p == "black_deregistered") + count * 2 // 5
    governance = _counts(rng, GOVERNANCE, subject_count)
    names, codes, specs = set(), set(), []
    for index, profile in enumerate(profiles):
        subject = profile == "black_deregistered" or (governance and rng.random() < 0.4)
        if subject:
            category = Cat.SUBJECT
            subjects = rng.sample(SUBJECT_TYPE[:6], rng.choice([1, 1, 2, 3]))
            suffix = rng.choice(SUFFIX[Cat.SUBJECT])
            gov = G.DEREGISTERED if profile == "black_deregistered" else governance.pop()
        else:
            category = Cat.NON_SUBJECT
            subjects = [rng.choice(NON_SUBJECT_TYPE)]
            suffix = rng.choice(SUFFIX[subjects[0]])
            gov = G.NOT_APPLICABLE
        name = f"示范区{rng.choice(WORDS)}{suffix}"
        while name in names:
            name = f"示范区{rng.choice(WORDS)}{rng.choice(WORDS)}{suffix}"
        names.add(name)
        code = _credit_code(rng, "52" if gov == G.CONVERTED else "91")
        while code in codes:
            code = _credit_code(rng, "91")
        codes.add(code)
        spec = Spec(
            index=index, profile=profile, name=name, credit_code=code, category=category,
            subjects=subjects, governance=gov, scale=rng.randint(20, 260),
            mode=Institution.Mode.ONLINE if rng.random() < 0.12 else Institution.Mode.OFFLINE,
        )  # fmt: skip
        roll = rng.random()
        if profile == "black_expired":
            spec.licence_days = -rng.randint(1, 300)
        elif roll < 0.07:
            spec.licence_days = rng.randint(0, 7)  # the 7-day window (serious)
        elif roll < 0.17:
            spec.licence_days = rng.randint(8, 30)  # the 30-day window
        else:
            spec.licence_days = rng.randint(60, 1100)
        live = profile not in ("black_no_licence", "black_revoked", "black_deregistered")
        if live and profile != "grey_unsupervised":
            spec.account = "escrow" if rng.random() < 0.7 else "deposit"
            roll = rng.random()
            spec.warning = "red" if roll < 0.08 else "yellow" if roll < 0.2 else ""
            # purchases cost the most queries (sale, 消课, confirmation and release): half the
            # escrow accounts get one, and every escrow account that is to show a warning
            roll = rng.random()
            if spec.account == "escrow":
                spec.purchases = 2 if roll < 0.1 else int(roll < 0.5 or bool(spec.warning))
            else:
                spec.purchases = int(roll < 0.2)
        specs.append(spec)
    # a few subject-type courses that break the rules, for the nightly checks to find
    subject_live = [
        s for s in specs
        if s.category == Cat.SUBJECT and s.governance != G.DEREGISTERED
        and s.profile in ("white", "grey_review_overdue")
    ]  # fmt: skip
    kinds = ["price"] * 6 + ["late"] * 5 + ["saturday"] * 4 + ["online_long"] * 2
    for spec, kind in zip(subject_live[::2], kinds, strict=False):
        spec.bad_course = kind
    return specs


# --- building one institution through the services ----------------------------------------


def _account_formset(institution, **values):
    """The admin's inline formset of the supervised account, filled as staff would."""
    formset_class = inlineformset_factory(
        Institution, SupervisedAccount,
        fields=["kind", "bank", "account_name", "account_number", "deposit_amount", "active",
                "opened_on"],
        extra=1, max_num=1, can_delete=False,
    )  # fmt: skip
    data = {"acc-TOTAL_FORMS": "1", "acc-INITIAL_FORMS": "0", "acc-MAX_NUM_FORMS": "1"}
    data.update({f"acc-0-{k}": v for k, v in values.items()})
    formset = formset_class(data=data, instance=institution, prefix="acc")
    if not formset.is_valid():
        raise ValueError(f"demo supervised account refused: {formset.errors}")
    return formset


def subject_window(district, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The longest stretch around ``today`` (up to 3 weeks before and after) whose weekdays
    are all school days a subject-type course may use: no holiday, no vacation, a calendar
    that knows them. None if today itself is not in one (e.g. the winter vacation)."""
    good = {}
    for offset in range(-21, 22):
        day = today + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        try:
            info = day_info(day, district)
        except CalendarUnknownDay:
            good[day] = False
            continue
        good[day] = not (info.holiday or info.rest_day or info.vacation)
    weekdays = sorted(good)
    anchor = min((d for d in weekdays if d >= today), default=None)
    if anchor is None or not good[anchor]:
        return None
    start = end = anchor
    for day in reversed([d for d in weekdays if d < anchor]):
        if not good[day]:
            break
        start = day
    for day in [d for d in weekdays if d > anchor]:
        if not good[day]:
            break
        end = day
    return (start, end) if start < end else None


def _price(cap: Decimal, share: float) -> Decimal:
    return (cap * Decimal(str(share))).quantize(Decimal("1"), rounding=ROUND_DOWN)


class Builder:
    def __init__(self, *, actor, district, today):
        self.actor, self.district, self.today = actor, district, today
        self.window = subject_window(district, today)
        self.policy = EscrowPolicy.current()
        self.counts = {"courses": 0, "bad_courses": 0, "purchases": 0, "accounts": 0}

    def build(self, spec: Spec):
        rng = random.Random(f"{SEED}:{spec.index}")
        today = self.today
        licensed = spec.profile != "black_no_licence"
        expires = today + dt.timedelta(days=spec.licence_days)
        issued = min(expires - dt.timedelta(days=3 * 365), today - dt.timedelta(days=200))
        institution = services.institution_register(
            actor=self.actor,
            name=spec.name,
            credit_code=spec.credit_code,
            category=spec.category,
            subjects=spec.subjects,
            mode=spec.mode,
            nature=Institution.Nature.FOR_PROFIT,
            address=f"示范区{rng.choice(ROADS)}{rng.randint(1, 399)}号",
            district=self.district,
            scale=spec.scale,
            licence_number=f"教民{DISTRICT[0]}{spec.index + 1:06d}号" if licensed else "",
            licence_issued=issued if licensed else None,
            licence_expires=expires if licensed else None,
        )
        for n, step in enumerate(PATHS.get(spec.governance, [])):
            services.governance_move(
                actor=self.actor, institution_id=institution.pk, to=step,
                date=dt.date(2021, 10, 15) + dt.timedelta(days=120 * n + spec.index),
                note=STEP_NOTES[step].format(n=spec.index + 1),
            )  # fmt: skip
        if licensed and spec.profile in REVIEWED:
            self._reviews(institution, spec, rng)
        if spec.profile == "black_revoked":
            institution.refresh_from_db()  # as the admin's form would: after the moves above
            institution.licence_revoked = True
            services.institution_change(
                actor=self.actor, institution=institution, changed=["licence_revoked"]
            )
        if spec.profile == "grey_suspended":
            services.institution_suspend(
                actor=self.actor, institution_id=institution.pk,
                reason=rng.choice(["消防安全检查不合格，整改期间暂停招生",
                                   "涉嫌超范围培训，调查期间暂停办学"]),
            )  # fmt: skip
        if spec.account:
            self._account(institution, spec, rng)
        live = licensed and spec.profile != "black_revoked" and spec.governance != G.DEREGISTERED
        # a course where something hangs on it: a purchase, a rule (subject-type), fees
        # not supervised; half of the others (each course_save costs a dozen queries)
        wanted = (
            spec.purchases or spec.category == Cat.SUBJECT or not spec.account
            or spec.index % 2 == 0
        )  # fmt: skip
        courses = self._courses(institution, spec, rng) if live and wanted else []
        if spec.account and courses:
            self._purchases(institution, spec, rng, courses)
            if spec.warning and spec.account == "escrow":
                self._withdrawal(institution, spec, rng)

    def _reviews(self, institution, spec, rng):
        today = self.today
        result, days = "passed", rng.randint(20, 330)
        if spec.profile == "grey_review_overdue":
            days = rng.randint(480, 700)  # the last pass is older than the review period
        elif spec.profile == "grey_review_rectify":
            result = "rectify"
        elif spec.profile == "grey_review_failed":
            result = "failed"
        date = today - dt.timedelta(days=days)
        earlier = date - dt.timedelta(days=365)
        history = [(earlier, "passed")] if rng.random() < 0.15 else []
        for year_date, year_result in [*history, (date, result)]:
            services.review_record(
                actor=self.actor, institution_id=institution.pk, year=year_date.year,
                result=year_result, date=year_date,
                note={"passed": "年检合格", "rectify": "消防通道不畅，限期30日整改",
                      "failed": "师资资质不符合要求"}[year_result],
            )  # fmt: skip

    def _account(self, institution, spec, rng):
        deposit = Decimal("0")
        if spec.account == "deposit":
            need = self.policy.deposit_required(spec.scale)
            share = {"": rng.choice([1, 1.2, 1.5]), "yellow": 0.9, "red": 0.6}[spec.warning]
            deposit = (need * Decimal(str(share))).quantize(Decimal("1000"), rounding=ROUND_DOWN)
        formset = _account_formset(
            institution,
            kind=spec.account,
            bank=rng.choice(BANKS),
            account_name=f"{institution.name}预收费监管账户",
            account_number="".join(str(rng.randint(0, 9)) for _ in range(19)),
            deposit_amount=str(deposit),
            active="on",
            opened_on=(self.today - dt.timedelta(days=rng.randint(90, 900))).isoformat(),
        )
        services.institution_inline_save(actor=self.actor, institution=institution, formset=formset)
        self.counts["accounts"] += 1

    def _courses(self, institution, spec, rng) -> list[Course]:
        today = self.today
        out = []
        for n, subject in enumerate(spec.subjects[:1]):
            online = spec.mode == Institution.Mode.ONLINE
            minutes = 30 if online else rng.choice([45, 60, 90])
            size = rng.choice([8, 10, 15, 20, 30, 40])
            cap = services.price_cap(class_size=size, lesson_minutes=minutes, mode=spec.mode)
            data = {
                "name": f"{COURSE_NAMES[subject]}（{'线上' if online else '线下'}{n + 1}班）",
                "subject": subject, "mode": spec.mode, "lesson_minutes": minutes,
                "class_size": size, "price_per_lesson": _price(cap, rng.uniform(0.6, 1.0)),
            }  # fmt: skip
            if subject in SUBJECT_TYPE:
                if self.window is None:
                    continue  # no term days around today (a vacation): no subject course
                start, end = self.window
                weekday = rng.randint(0, 4)
                begin = dt.time(19, 0) if online else rng.choice([dt.time(16, 30), dt.time(18, 30)])
                slots = [{"weekday": weekday, "start": begin, "end": _plus(begin, minutes)}]
            else:
                start, end = today - dt.timedelta(days=60), today + dt.timedelta(days=90)
                begin = rng.choice([dt.time(9, 0), dt.time(14, 0), dt.time(16, 0)])
                slots = [{"weekday": rng.choice([2, 5, 6]), "start": begin,
                          "end": _plus(begin, minutes)}]  # fmt: skip
            out.append(
                services.course_save(
                    actor=self.actor,
                    institution=institution,
                    slots=slots,
                    term_start=start,
                    term_end=end,
                    **data,
                )  # fmt: skip
            )
            self.counts["courses"] += 1
        if spec.bad_course:
            out.append(self._bad_course(institution, spec, rng))
        return out

    def _bad_course(self, institution, spec, rng) -> Course:
        """A course ``course_save`` refuses (see the module's docstring): over the price cap,
        ending after 20:30, on Saturdays (a rest day), or an online lesson over 30 minutes."""
        kind, subject = spec.bad_course, spec.subjects[0]
        online = kind == "online_long"
        minutes, size = (45 if online else 90), rng.choice([10, 20, 30])
        mode = Institution.Mode.ONLINE if online else Institution.Mode.OFFLINE
        cap = services.price_cap(class_size=size, lesson_minutes=minutes, mode=mode)
        price = _price(cap, 1.4 if kind == "price" else 0.8)
        begin, weekday = {
            "price": (dt.time(18, 0), 2),
            "late": (dt.time(19, 30), 3),
            "saturday": (dt.time(9, 0), 5),
            "online_long": (dt.time(19, 0), 1),
        }[kind]
        course = Course.objects.bulk_create([
            Course(institution=institution, name=f"{COURSE_NAMES[subject]}（提高班）",
                   subject=subject, mode=mode, lesson_minutes=minutes, class_size=size,
                   price_per_lesson=price, term_start=self.today - dt.timedelta(days=30),
                   term_end=self.today + dt.timedelta(days=60))
        ])[0]  # fmt: skip
        CourseSlot.objects.bulk_create(
            [CourseSlot(course=course, weekday=weekday, start=begin, end=_plus(begin, minutes))]
        )
        self.counts["bad_courses"] += 1
        return course

    def _purchases(self, institution, spec, rng, courses):
        today = self.today
        for n in range(spec.purchases):
            course = courses[n % len(courses)]
            lessons = rng.randint(10, 40)
            lessons = min(lessons, int(Decimal("5000") // course.price_per_lesson))
            starts = today - dt.timedelta(days=rng.randint(7, 70))
            ends = starts + dt.timedelta(days=rng.randint(45, 85))  # within 3 months
            parent = f"{rng.choice(SURNAMES)}{rng.choice(PARENT_TITLES)}"
            purchase = escrow.purchase_record(
                actor=self.actor, course_id=course.pk, parent_name=parent,
                parent_phone=f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}",
                lessons=lessons, amount=course.price_per_lesson * lessons,
                starts_on=starts, ends_on=ends,
                idempotency_key=f"DEMO-{spec.credit_code}-{n + 1}",
            )  # fmt: skip
            self.counts["purchases"] += 1
            elapsed = (today - starts).days / (ends - starts).days
            consumed = min(lessons, max(1, round(lessons * elapsed)))
            confirmed = max(0, consumed - rng.choice([0, 0, 1, 2]))
            escrow.lessons_consume(actor=self.actor, purchase_id=purchase.pk, total=consumed)
            if confirmed:
                escrow.lessons_confirm(
                    actor=self.actor, purchase_id=purchase.pk, total=confirmed, today=today
                )
            roll = rng.random()
            if roll < 0.04:
                escrow.dispute_open(
                    actor=self.actor, purchase_id=purchase.pk,
                    reason="家长反映授课教师多次更换，对已消课时有异议",
                )  # fmt: skip
            elif roll < 0.08:
                escrow.refund_unconsumed(
                    actor=self.actor, purchase_id=purchase.pk,
                    reason="学生转学，申请退还未消课费用", today=today,
                )  # fmt: skip

    def _withdrawal(self, institution, spec, rng):
        """Money taken out of the escrow without a release, found in the bank statement and
        booked by staff: the balance falls under the unconsumed lessons (yellow or red)."""
        have = escrow.escrow_balances([institution.pk])[institution.pk]
        need = escrow.unconsumed_values([institution.pk])[institution.pk]
        share = Decimal("0.9") if spec.warning == "yellow" else Decimal("0.6")
        amount = (have - need * share).quantize(Decimal("0.01"))
        if need <= 0 or amount <= 0:
            return
        account = institution.supervised_account
        purchases = Purchase.objects.filter(institution=institution).order_by("pk")
        rows = [
            StatementRow(n + 1, p.created_at.date(), p.amount, p.idempotency_key, p.parent_name)
            for n, p in enumerate(purchases)
        ]
        rows.append(StatementRow(len(rows) + 1, self.today, -amount, "", institution.name))
        statement = escrow.statement_import(
            actor=self.actor, account_id=account.pk, filename="示范区托管账户对账单.csv",
            rows=rows, encoding="utf-8",
        )  # fmt: skip
        line = statement.lines.get(amount=-amount, reference="")
        escrow.bank_line_book(
            actor=self.actor, line_id=line.pk, memo="未经释放从托管账户划出至机构基本户（违规划转）"
        )


def _plus(start: dt.time, minutes: int) -> dt.time:
    return (dt.datetime.combine(dt.date.min, start) + dt.timedelta(minutes=minutes)).time()


def load_demo() -> list[str]:
    """Create the demo institutions that are missing; return what was done (lines to print)."""
    refuse_in_production()
    actor = get_user_model().objects.filter(username=ACTOR).first()
    district = District.objects.filter(code=DISTRICT[0]).first()
    if actor is None or district is None:
        return []
    specs = plan()
    have = set(
        Institution.objects.filter(credit_code__in=[s.credit_code for s in specs]).values_list(
            "credit_code", flat=True
        )
    )
    todo = [s for s in specs if s.credit_code not in have]
    lines = []
    if todo:
        builder = Builder(actor=actor, district=district, today=timezone.localdate())
        with transaction.atomic():  # all of it or nothing, like the other apps' demos
            for spec in todo:
                builder.build(spec)
            transaction.on_commit(lambda: public_cache.bump("institutions"))
        c = builder.counts
        lines.append(
            f"校外培训机构：新增 {len(todo)} 家（{c['accounts']} 个资金监管账户、"
            f"{c['courses'] + c['bad_courses']} 门课程、{c['purchases']} 笔预收费）"
        )
    lines += load_enforcement(actor=actor, district=district, specs=specs)
    from institutions.demo_sides import load_sides

    lines += load_sides(actor=actor, district=district, today=timezone.localdate())
    return lines


# --- complaints and enforcement (举报投诉, 专项整治, 约谈, 处罚, 通报) ----------------------------

ROUND_NAME = "示范区校外培训机构专项整治（演示）"
ROUND_SEED = 20211101  # the draw of the demo round: the same institutions on every run
HOMEWORK_ACTOR = "bureau_homework"  # 学校作业超量 is the 作业管理 line's (Complaint.ROUTE)
ASSIGNED_SCHOOL = "4401990001"  # 示范区实验小学
OTHER_SCHOOL = "4401990002"  # 示范区第一中学
DRAWN = 8  # institutions the round plans; VISITS of them are visited
VISITS = 5


def _targets(specs, district) -> list[Institution]:
    """The demo's white institutions with a licence, in plan order: the ones complained about
    and sanctioned (a sanction of a revoked licence is refused, as it must be)."""
    codes = [s.credit_code for s in specs if s.profile == "white"]
    found = {
        i.credit_code: i
        for i in Institution.objects.filter(
            credit_code__in=codes, district=district, licence_revoked=False
        )
    }
    return [found[c] for c in codes if c in found]


def load_enforcement(*, actor, district, specs) -> list[str]:
    """Complaints of every status the demo needs, one 专项整治 round drawn with a fixed seed
    and visited, a 约谈, a 警告 and a 责令整改, and the 通报 listing them: every row through
    institutions/complaints.py and institutions/enforcement.py, in one transaction.

    Idempotent: skipped whole when the demo's round exists (made in the same transaction as
    the rest, so it exists only if all the rest does)."""
    from institutions import complaints, enforcement
    from institutions.complaint_models import Complaint
    from institutions.enforcement_models import CHECKLIST, InspectionRound
    from portal.models import School

    if InspectionRound.objects.filter(name=ROUND_NAME).exists():
        return []
    users = get_user_model().objects.in_bulk([HOMEWORK_ACTOR], field_name="username")
    schools = School.objects.in_bulk([ASSIGNED_SCHOOL, OTHER_SCHOOL], field_name="code")
    targets = _targets(specs, district)
    if HOMEWORK_ACTOR not in users or len(schools) < 2 or len(targets) < 3:
        return []
    homework_actor = users[HOMEWORK_ACTOR]
    today = timezone.localdate()
    # decisions this month (the dashboard's sanctions panel is monthly), never in the future
    decided = max(today - dt.timedelta(days=2), today.replace(day=1))
    deadline = today + dt.timedelta(days=30)
    Cat_ = Complaint.Category
    overtime, ahead, sanctioned = targets[:3]
    with transaction.atomic():
        # complaints: (filed, then the handling moves)
        closed, _code = complaints.complaint_file(
            category=Cat_.FEES, institution_id=sanctioned.pk,
            text="该机构要求一次性缴纳一年学费共 2.4 万元，拒绝按课时分期缴费。",
            happened_on=today - dt.timedelta(days=20), contact_name="刘女士",
            contact_phone="13900139001",
        )  # fmt: skip
        complaints.complaint_accept(
            actor=actor, complaint_id=closed.pk, note="属校外培训收费问题，予以受理"
        )
        complaints.complaint_answer(
            actor=actor, complaint_id=closed.pk,
            answer="经核查，该机构确有超 3 个月一次性收费行为，已责令其退还超收部分并予以警告。",
        )  # fmt: skip
        complaints.complaint_close(
            actor=actor, complaint_id=closed.pk,
            reply="您反映的问题属实，我局已依规对该机构作出警告处理，并责令其按规定收费。感谢您的监督。",
        )  # fmt: skip
        assigned, _code = complaints.complaint_file(
            category=Cat_.HOMEWORK, school_id=schools[ASSIGNED_SCHOOL].pk,
            text="三年级每天书面作业要做到晚上十点以后，远超规定时长。",
            happened_on=today - dt.timedelta(days=5), contact_name="孙先生",
        )  # fmt: skip
        complaints.complaint_accept(actor=homework_actor, complaint_id=assigned.pk)
        complaints.complaint_assign(
            actor=homework_actor, complaint_id=assigned.pk,
            school_id=schools[ASSIGNED_SCHOOL].pk, note="请学校核查三年级作业总量并反馈。",
        )  # fmt: skip
        complaints.complaint_file(
            category=Cat_.OVERTIME, institution_id=overtime.pk,
            text="工作日晚上九点半以后仍在给小学生上课。",
            happened_on=today - dt.timedelta(days=1),
        )  # fmt: skip
        complaints.complaint_file(
            category=Cat_.AFTERSCHOOL, school_id=schools[OTHER_SCHOOL].pk,
            text="课后服务时间只安排学生自习，没有任何辅导或活动。",
        )  # fmt: skip
        accepted, _code = complaints.complaint_file(
            category=Cat_.DISGUISED, institution_name="示范区某小区“托管中心”",
            institution_address="示范区学府路 88 号 3 栋 2 单元",
            text="以托管名义在居民楼内给初中生集中补习数学、英语。",
            happened_on=today - dt.timedelta(days=3), contact_phone="020-12345678",
        )  # fmt: skip
        complaints.complaint_accept(actor=actor, complaint_id=accepted.pk)
        accepted, _code = complaints.complaint_file(
            category=Cat_.AHEAD, institution_id=ahead.pk,
            text="暑期班给四年级学生讲五年级的数学内容。",
        )  # fmt: skip
        complaints.complaint_accept(actor=actor, complaint_id=accepted.pk)

        # a round, drawn with a fixed seed, one group of the training line's staff
        rnd = enforcement.round_create(
            actor=actor, name=ROUND_NAME, starts_on=today - dt.timedelta(days=20),
            ends_on=today + dt.timedelta(days=40),
        )  # fmt: skip
        enforcement.group_add(
            actor=actor, round_id=rnd.pk, name="第一检查组", inspector_ids=[actor.pk]
        )
        planned = enforcement.round_draw(
            actor=actor, round_id=rnd.pk, district_id=district.pk, count=DRAWN, seed=ROUND_SEED
        )
        passed = {c.value: (True, "") for c in CHECKLIST}
        revoked = set(
            Institution.objects.filter(
                pk__in=[p.institution_id for p in planned], licence_revoked=True
            ).values_list("pk", flat=True)
        )
        # the failed visit: the first planned institution a sanction may be decided for
        failing = next(
            p.institution_id for p in planned
            if p.institution_id not in revoked and p.institution_id != sanctioned.pk
        )  # fmt: skip
        failed_visit = None
        for n, row in enumerate(planned[:VISITS]):
            results = dict(passed)
            if row.institution_id == failing:
                results[CHECKLIST.FEES] = (
                    False,
                    "未公示收费项目和标准，存在超过 3 个月的一次性收费。",
                )
            visit = enforcement.visit_record(
                actor=actor, institution_id=row.institution_id, round_id=rnd.pk,
                date=today - dt.timedelta(days=10 - n), results=results,
            )  # fmt: skip
            if row.institution_id == failing:
                failed_visit = visit
        visits = VISITS
        if failed_visit is None:  # the failing one was drawn after the first VISITS
            visits += 1
            failed_visit = enforcement.visit_record(
                actor=actor, institution_id=failing, round_id=rnd.pk,
                date=today - dt.timedelta(days=5),
                results={**passed, CHECKLIST.FEES: (False, "未公示收费项目和标准。")},
            )  # fmt: skip
        interview = enforcement.interview_record(
            actor=actor, institution_id=failing, date=failed_visit.date + dt.timedelta(days=1),
            attendees="机构法定代表人、校长；区教育局校外培训科两名工作人员",
            problems="未公示收费项目和标准；一次性收取超过 3 个月的培训费用。",
            deadline=deadline, visit_id=failed_visit.pk,
        )  # fmt: skip
        warning = enforcement.sanction_decide(
            actor=actor, institution_id=sanctioned.pk, kind=enforcement.K.WARNING,
            decided_on=decided, complaint_id=closed.pk,
            reason="一次性收取超过 3 个月的培训费用（经举报核实）。",
        )  # fmt: skip
        rectify = enforcement.sanction_decide(
            actor=actor, institution_id=failing, kind=enforcement.K.RECTIFY,
            decided_on=decided, deadline=deadline, interview_id=interview.pk,
            visit_id=failed_visit.pk, reason="未公示收费项目和标准，违规预收费。",
        )  # fmt: skip
        enforcement.notice_publish(
            actor=actor, title="示范区教育局关于校外培训机构违规行为查处情况的通报", date=decided,
            body="近期，我局在专项整治和举报核查中发现以下机构存在违规行为，现予以通报。",
            entries=[
                {"institution_id": sanctioned.pk, "violation": "一次性收取超过 3 个月的培训费用",
                 "sanction_id": warning.pk, "outcome": "已退还超收费用"},
                {"institution_id": failing, "violation": "未公示收费项目和标准，违规预收费",
                 "sanction_id": rectify.pk, "outcome": f"限期于 {deadline} 前整改"},
            ],
        )  # fmt: skip
    return [
        f"举报投诉与执法：新增 6 件举报投诉、专项整治 1 次（抽取 {len(planned)} 家，"
        f"检查 {visits} 家）、约谈 1 次、行政处理 2 件、通报 1 份"
    ]
