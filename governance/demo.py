"""Demo data of the governance registers (阳光分班, 承诺书, 关爱帮扶, 考试安排, 致家长的一封信)
for the demo district that `make run` loads (portal/demo.py), so that each register's pages
and dashboard panels have something to show on the first start.

Everything goes through the registers' services (governance/draw.py, pledges.py, care.py,
exams.py, letters.py), acted by the demo's own users: the same permission checks,
validation and audit rows as a real user's clicks, never an ORM write here. Idempotent: each
part first looks for what it would make (18 queries in all on a second load) and makes only
what is missing, so a second load adds nothing; what is missing is made in one transaction.
Refused in production like the other demos (``portal.demo.refuse_in_production``).

Dates are relative to the day it runs: the draws are of this year's intake, the campaign is
this year's, the exams lie in the district's current term (the unit tests in this month, so
the month's dashboard panel has them), the letter is sent today.

What the services do not allow, the demo does not fake: a care record is opened today
(``record_open`` dates it), and its first home visit falls due PORTAL_CARE_FIRST_VISIT_DAYS
later, so no visit can be overdue on the day of the load; the dashboard shows the visits
still owed, and a record with no visit becomes overdue by itself a month on.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance import care, draw, exams, letters, pledges
from governance.care_models import CareContact, CareRecord, CareStaff
from governance.draw_models import Draw
from governance.exam_models import Exam
from governance.letter_models import ParentLetter
from governance.pledge_models import PledgeCampaign, PledgeTemplate
from portal.demo import DISTRICT, refuse_in_production
from portal.models import Child, District, School, SchoolStaff

SHIYAN, YIZHONG, MINGDE = "4401990001", "4401990002", "4401990003"

# --- 阳光分班 ----------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_F = ["欣怡", "梓涵", "诗琪", "雨桐", "可馨", "思彤", "语嫣", "佳怡", "若曦", "婉清"]
GIVEN_M = ["浩宇", "子轩", "俊熙", "宇航", "博文", "天佑", "明哲", "嘉懿", "皓然", "思源"]
SHIYAN_DRAW = {"pupils": 40, "classes": 2, "teachers": ["孙丽华", "郑晓燕"]}
YIZHONG_DRAW = {"pupils": 36, "classes": 2, "teachers": ["钱志强", "冯雅琴"]}


def pupil_list(count: int, offset: int = 0) -> list[tuple[str, str]]:
    """``count`` distinct (name, gender) pairs, half girls: generated, not real children.
    Deterministic, so a list is the same at every load."""
    out = []
    for i in range(count):
        k = i + offset
        female = i % 2 == 0
        given = (GIVEN_F if female else GIVEN_M)[(k // 2) % 10]
        surname = SURNAMES[(k * 7 + k // 20) % len(SURNAMES)]
        out.append((surname + given, "女" if female else "男"))
    return out


def _draw(school, actor, bureau, grade, spec, *, offset, run: bool, now) -> Draw:
    """A draw created, listed and published through the services; run when ``run``."""
    year = timezone.localdate().year
    if run:
        # published two hours ago for a draw an hour ago, and run at that time: the seed
        # committed before the draw, as the service requires
        published_at, scheduled_at = now - dt.timedelta(hours=2), now - dt.timedelta(hours=1)
    else:  # published now, drawn next week
        published_at, scheduled_at = now, now + dt.timedelta(days=7)
    made = draw.draw_create(
        actor=actor, grade=grade, year=year, class_count=spec["classes"],
        scheduled_at=scheduled_at,
    )  # fmt: skip
    text = "\n".join(f"{name},{gender}" for name, gender in pupil_list(spec["pupils"], offset))
    draw.draw_set_lists(
        actor=actor, draw_id=made.pk, class_count=spec["classes"], pupils_text=text,
        teachers_text="\n".join(spec["teachers"]),
    )  # fmt: skip
    draw.draw_publish(actor=bureau, draw_id=made.pk, scheduled_at=scheduled_at, now=published_at)
    if run:
        draw.draw_run(actor=actor, draw_id=made.pk, now=scheduled_at)
    return made


def _draws(users, schools, now) -> list[str]:
    year = timezone.localdate().year
    lines = []
    plan = [
        (SHIYAN, "principal_shiyan", 1, SHIYAN_DRAW, 0, True),
        (YIZHONG, "principal_yizhong", 7, YIZHONG_DRAW, 3, False),
    ]
    for code, username, grade, spec, offset, run in plan:
        school = schools[code]
        if Draw.objects.filter(school=school, grade=grade, year=year).exists():
            continue
        made = _draw(school, users[username], users["bureau_homework"], grade, spec,
                     offset=offset, run=run, now=now)  # fmt: skip
        lines.append(
            f"阳光分班：{made}（{spec['pupils']} 名学生、{spec['classes']} 个班），"
            + ("已公布承诺并抽签" if run else "已公布承诺，待抽签")
        )
    return lines


# --- 承诺书 ------------------------------------------------------------------------------------

PLEDGE_TITLE = "教师落实“双减”工作承诺书"
PLEDGE_TEXT = (
    "本人郑重承诺：\n"
    "一、严格执行作业总量和时长控制，不布置超量、重复性、惩罚性作业；\n"
    "二、不得组织、推荐学生参加校外学科类培训，不得有偿补课；\n"
    "三、课后服务坚持自愿原则，不利用课后服务讲新课；\n"
    "四、考试结果实行等级评价，不公布学生成绩和排名。\n"
    "如有违反，自愿接受相应处理。"
)
# the demo's teachers who have signed; the others have not (yet)
PLEDGE_SIGNERS = ["principal_shiyan", "teacher_shiyan", "principal_yizhong"]


def _pledges(users, schools, today) -> list[str]:
    year = today.year
    if PledgeCampaign.objects.filter(template__title=PLEDGE_TITLE, year=year).exists():
        return []
    bureau = users["bureau_homework"]
    template = PledgeTemplate.objects.filter(title=PLEDGE_TITLE).order_by("-version").first()
    if template is None:
        template = pledges.template_save(actor=bureau, title=PLEDGE_TITLE, text=PLEDGE_TEXT)
    campaign = pledges.campaign_issue(
        actor=bureau, template_id=template.pk, year=year,
        deadline=today + dt.timedelta(days=14), school_ids=[s.pk for s in schools.values()],
    )  # fmt: skip
    signed = 0
    for username in PLEDGE_SIGNERS:
        letter = campaign.letters.filter(staff__user=users[username]).first()
        if letter is not None:
            pledges.letter_sign(actor=users[username], letter_id=letter.pk, agreed=True,
                                version=template.version)  # fmt: skip
            signed += 1
    total = campaign.letters.count()
    return [f"承诺书：发放{campaign}（{total} 份），已签署 {signed} 份、未签署 {total - signed} 份"]


# --- 关爱帮扶 ----------------------------------------------------------------------------------

# (pupil, categories, need, visits: [(days ago, form, notes)])
CARE = [
    ("李雨轩", ["留守儿童"], "父母在外务工，由祖父母照看，需关注学习习惯和情绪。",
     [(5, "visit", "到家中走访，与祖母沟通孩子作息和作业情况，孩子状态良好。")]),
    ("张欣怡", ["心理关注"], "近期情绪低落，需定期谈心，与家长保持沟通。",
     [(3, "talk", "班主任课后谈心约二十分钟，学生愿意表达，约定每周再谈。")]),
    ("王子涵", ["困难家庭"], "家庭经济困难，已落实课后服务费用减免。", []),
]  # fmt: skip


def _care(users, schools, today) -> list[str]:
    school = schools[SHIYAN]
    principal = users["principal_shiyan"]
    names = [name for name, *_rest in CARE]
    children = {}
    for child in Child.objects.filter(school=school, name__in=names).order_by("school_class", "pk"):
        children.setdefault(child.name, child)
    have = set(
        CareRecord.objects.filter(child__in=children.values()).values_list("child__name", flat=True)
    )
    todo = [row for row in CARE if row[0] in children and row[0] not in have]
    care_staff = users["jiaowu_shiyan"].school_staff
    designated = False
    if not CareStaff.objects.filter(staff=care_staff).exists():
        care.care_staff_designate(actor=principal, staff_id=care_staff.pk)
        designated = True
    visits = 0
    for name, categories, need, contacts in todo:
        record = care.record_open(
            actor=principal, child_id=children[name].pk, categories=categories, need=need,
            contact_id=care_staff.pk,
        )  # fmt: skip
        for days_ago, form, notes in contacts:
            care.contact_log(
                actor=users["jiaowu_shiyan"], record_id=record.pk,
                date=today - dt.timedelta(days=days_ago), form=form, notes=notes,
            )  # fmt: skip
            visits += form == CareContact.Form.VISIT
    if not todo and not designated:
        return []
    line = f"关爱帮扶：{school.name}新建 {len(todo)} 份关爱档案，登记家访 {visits} 次"
    if designated:
        line += f"，指定关爱帮扶专干 {care_staff.name}"
    return [line]


# --- 考试安排 ----------------------------------------------------------------------------------


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _exam_plan(school_code, term, today):
    """(subject, grade, kind, date, per) of a school: ``per`` is "term" for the 期中/期末
    (one a term and subject) and "month" for the 单元测验 (one this month), which is what
    keeps the load idempotent and this month's panel filled."""
    unit_day = min(today + dt.timedelta(days=7), _month_end(today), term.end)
    final_day = max(term.end - dt.timedelta(days=7), term.start)
    mid_day = term.start + (term.end - term.start) // 2
    K = Exam.Kind
    if school_code == SHIYAN:  # primary: no exam in grades 1-2, one 期末 a term from grade 3
        return [
            *[(subject, grade, K.FINAL, final_day, "term")
              for grade in (3, 4, 5, 6) for subject in ("语文", "数学")],
            ("数学", 3, K.UNIT, unit_day, "month"),
            ("英语", 5, K.UNIT, unit_day, "month"),
        ]  # fmt: skip
    return [  # lower secondary: one 期中 and one 期末 a term
        *[(subject, grade, kind, day, "term")
          for grade in (7, 8) for subject in ("语文", "数学")
          for kind, day in ((K.MIDTERM, mid_day), (K.FINAL, final_day))],
        ("英语", 7, K.UNIT, unit_day, "month"),
    ]  # fmt: skip


def _exams(users, schools, today) -> list[str]:
    lines = []
    for code, username in ((SHIYAN, "principal_shiyan"), (YIZHONG, "principal_yizhong")):
        school = schools[code]
        term = exams.term_of(school, today)
        if term is None:  # a vacation: no term to put exams in
            continue
        month = (today.replace(day=1), _month_end(today))
        existing = set(
            Exam.objects.filter(school=school, date__range=(term.start, term.end)).values_list(
                "subject", "grade", "kind", "date"
            )
        )
        made = 0
        for subject, grade, kind, day, per in _exam_plan(code, term, today):
            span = (term.start, term.end) if per == "term" else month
            if any(
                (s, g, k) == (subject, grade, kind) and span[0] <= d <= span[1]
                for s, g, k, d in existing
            ):
                continue
            exams.exam_create(actor=users[username], subject=subject, grade=grade, kind=kind,
                              date=day)  # fmt: skip
            made += 1
        if made:
            lines.append(f"考试安排：{school.name}录入 {made} 场（{term.name}）")
    return lines


# --- 致家长的一封信 ----------------------------------------------------------------------------

LETTER_TITLE = "致全体家长的一封信：落实“双减”，共育健康成长"
LETTER_BODY = (
    "尊敬的家长：\n"
    "本学期学校严格落实“双减”要求：三至六年级每天书面作业平均完成时间不超过60分钟，"
    "一、二年级不布置家庭书面作业；课后服务坚持家长自愿。请您合理安排孩子的作息，"
    "保证每天睡眠时间不少于10小时，不参加违规的学科类校外培训。\n"
    "如有意见和建议，请通过本平台或班主任与学校联系。\n"
    "示范区实验小学"
)
LETTER_READER = "parent_zhang"


def _letters(users, schools) -> list[str]:
    school = schools[SHIYAN]
    if ParentLetter.objects.filter(sender_school=school, title=LETTER_TITLE).exists():
        return []
    letter = letters.letter_send(
        actor=users["principal_shiyan"], title=LETTER_TITLE, body=LETTER_BODY,
        school_ids=[school.pk],
    )  # fmt: skip
    reader = users[LETTER_READER]
    # the inbox notice that letter_open marks read is written when this transaction commits
    # (portal.notices.notify); this callback, registered after it, runs after it then
    transaction.on_commit(lambda: letters.letter_open(user=reader, letter=letter))
    n = letter.deliveries.count()
    return [f"致家长的一封信：{school.name}发出《{LETTER_TITLE}》（{n} 位家长），1 位已读"]


# --- the whole ------------------------------------------------------------------------------

USERS = [
    "principal_shiyan", "jiaowu_shiyan", "teacher_shiyan", "principal_yizhong",
    "teacher_mingde", "bureau_homework", "parent_zhang",
]  # fmt: skip


def load_demo() -> list[str]:
    """Make the governance registers' demo data that is missing; return what was done."""
    refuse_in_production()
    district = District.objects.filter(code=DISTRICT[0]).first()
    users = get_user_model().objects.in_bulk(USERS, field_name="username")
    if district is None or set(users) != set(USERS):
        return []  # the demo district (portal/demo.py) is not there
    schools = {
        s.code: s
        for s in School.objects.filter(district=district, code__in=[SHIYAN, YIZHONG, MINGDE])
    }
    if len(schools) != 3 or not SchoolStaff.objects.filter(user=users["jiaowu_shiyan"]).exists():
        return []
    now, today = timezone.now(), timezone.localdate()
    with transaction.atomic():  # all of it or nothing
        lines = _draws(users, schools, now)
        lines += _pledges(users, schools, today)
        lines += _care(users, schools, today)
        lines += _exams(users, schools, today)
        lines += _letters(users, schools)
    return lines
