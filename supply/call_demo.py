"""The public call's demo (for portal/demo.py & co, the lead wires it): idempotent, through
the services, passwords generated and returned once.

``build(actor)`` with ``actor`` the demo's bureau officer of 课后服务 (``bureau_afterschool``)
makes, when missing: four experts (``zhuanjia_zhou``, ``_wu``, ``_zheng``, ``_qian``),
three organisations with a 管理员 each (``org_yangguang``, ``org_qimiao``, ``org_mofang``),
a call published a month ago (three applications scored by the three experts, one with a
declared conflict of interest and so four experts on the panel; two admitted onto the
provider whitelist) and an open call with one application waiting for its deadline.
Returns the lines to print (accounts with their one-time passwords).
"""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from supply import calls, organisations
from supply.account_models import Expert, Organisation
from supply.call_models import Call

PUBLISHED_TITLE = "2026年秋季课后服务第三方机构公开征集"
OPEN_TITLE = "2027年春季课后服务第三方机构公开征集（艺术、科技类）"
CRITERIA = [("资质", 20), ("课程方案", 30), ("师资", 25), ("价格", 15), ("安全", 10)]
EXPERTS = [
    ("zhuanjia_zhou", "周教授", "体育教育"),
    ("zhuanjia_wu", "吴老师", "艺术教育"),
    ("zhuanjia_zheng", "郑研究员", "科技教育"),
    ("zhuanjia_qian", "钱老师", "校园安全"),
]
# name, USCC (valid check characters), kind, username, price, outside price
ORGS = [
    ("阳光体育俱乐部", "52440199MJ0000001X", "club", "org_yangguang", "40", "90"),
    ("奇妙科学工作室", "91440199MA00000021", "provider", "org_qimiao", "45", "100"),
    ("魔方艺术中心", "91440199MA00000030", "provider", "org_mofang", "50", "95"),
]
# scores per organisation per expert (criteria order); 钱老师 declares a conflict with 魔方
SCORES = {
    "阳光体育俱乐部": [[18, 27, 22, 13, 9], [16, 25, 20, 12, 8], [17, 26, 21, 14, 10]],
    "奇妙科学工作室": [[19, 28, 23, 12, 9], [18, 27, 22, 11, 9], [17, 26, 21, 13, 8]],
    "魔方艺术中心": [[15, 22, 18, 10, 7], [14, 21, 19, 11, 8], [16, 23, 20, 12, 9]],
}


def _pdf(name="营业执照.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n% demo\n", content_type="application/pdf")


def _code(first17: str) -> str:
    from institutions.uscc import check_character

    return first17 + check_character(first17)


def build(actor) -> list[str]:
    from portal.demo import refuse_in_production

    refuse_in_production()
    if Call.objects.filter(title=PUBLISHED_TITLE).exists():
        return []
    lines = []
    now, today = timezone.now(), timezone.localdate()
    with transaction.atomic():
        experts = []
        for username, name, field in EXPERTS:
            expert = Expert.objects.filter(user__username=username).first()
            if expert is None:
                expert, password = organisations.expert_create(
                    actor=actor, username=username, name=name, field=field
                )
                lines.append(f"评审专家 {username} / {password}")
            experts.append(expert)
        members = {}
        for name, code, kind, username, _p, _o in ORGS:
            code = _code(code[:17])
            org = Organisation.objects.filter(credit_code=code).first()
            if org is None:
                password = organisations.initial_password()
                org, member = organisations.organisation_register(
                    name=name, credit_code=code, kind=kind, contact_name="联系人",
                    contact_phone="13900001234", username=username,
                    password1=password, password2=password,
                )  # fmt: skip
                lines.append(f"组织管理员 {username}（{name}）/ {password}")
            members[name] = org.members.filter(role="admin", active=True).first()
        # a call that closed a month ago: applications, scores, a conflict, admission
        deadline = now - dt.timedelta(days=30)
        call = calls.call_open(
            actor=actor, title=PUBLISHED_TITLE, service_kinds="体育、科技、艺术",
            description="面向全区中小学课后服务，择优准入第三方机构。",
            deadline=deadline, criteria=CRITERIA, admit_count=2, tie_criterion="课程方案",
            service_start=today - dt.timedelta(days=20), service_end=today + dt.timedelta(days=200),
            now=deadline - dt.timedelta(days=30),
        )  # fmt: skip
        apps = {}
        for i, (name, _c, _k, _u, price, outside) in enumerate(ORGS):
            apps[name] = calls.application_submit(
                actor=members[name].user, call_id=call.pk, service_items="课后兴趣课程",
                plan="每周两次，每次一课时，含安全预案。", price_per_lesson=price,
                outside_price=outside, files=[_pdf()],
                now=deadline - dt.timedelta(days=10 - i),
            )  # fmt: skip
        for e in experts:
            calls.expert_assign(actor=actor, call_id=call.pk, expert_id=e.pk)
        calls.conflict_declare(
            actor=experts[3].user, application_id=apps["魔方艺术中心"].pk, reason="曾任该中心顾问"
        )
        criteria = list(call.criteria.all())
        for name, rows in SCORES.items():
            panel = experts[:3] if name == "魔方艺术中心" else experts
            rows = rows if len(panel) == 3 else [*rows, rows[0]]
            for e, values in zip(panel, rows, strict=True):
                calls.score_save(
                    actor=e.user, application_id=apps[name].pk,
                    values={c.pk: v for c, v in zip(criteria, values, strict=True)},
                )  # fmt: skip
        calls.call_admit(actor=actor, call_id=call.pk, vetting_note="已查询无犯罪记录（演示）")
        # an open call with one application
        open_call = calls.call_open(
            actor=actor, title=OPEN_TITLE, service_kinds="艺术、科技",
            deadline=now + dt.timedelta(days=20), criteria=CRITERIA, admit_count=3,
            tie_criterion="课程方案", service_start=today + dt.timedelta(days=60),
            service_end=today + dt.timedelta(days=240),
        )  # fmt: skip
        calls.application_submit(
            actor=members["魔方艺术中心"].user, call_id=open_call.pk, service_items="合唱、国画",
            price_per_lesson="48", outside_price="95", files=[_pdf()],
        )  # fmt: skip
        lines.append(f"公开征集：{PUBLISHED_TITLE}（已公布）、{OPEN_TITLE}（征集中）")
    return lines
