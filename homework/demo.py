"""Demo homework: this week's publications for the demo district's classes (idempotent)."""

import datetime as dt

from django.utils import timezone

from homework.models import HomeworkItem
from homework.services import homework_publish
from portal.models import SchoolStaff

PLAN = [
    ("语文", "朗读课文并完成课后练习", 20),
    ("数学", "练习册两页", 20),
    ("英语", "听读单元对话", 15),
]


def load_demo() -> list[str]:
    teacher = SchoolStaff.objects.filter(user__username="teacher_shiyan").first()
    if teacher is None:
        return []
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    created = 0
    for school_class in teacher.school.classes.filter(grade__gte=3):
        for offset in range(5):
            day = monday + dt.timedelta(days=offset)
            if HomeworkItem.objects.filter(school_class=school_class, date=day).exists():
                continue
            for subject, content, minutes in PLAN:
                homework_publish(
                    user=teacher.user,
                    school_class_id=school_class.pk,
                    date=day,
                    subject=subject,
                    content=content,
                    minutes=minutes,
                )
                created += 1
    lines = [f"作业公示：本周新增 {created} 项作业"] if created else []
    return lines + _load_designs(teacher, today)


# --- the design library (作业设计库) ---------------------------------------------------------
# Made through homework/designs.py and homework_publish, by the demo's own users: the
# principal names 教导处 to the review group, the head teacher of 3-1 submits three designs
# (one approved by 教导处 and shared district-wide by 基础教育科, one awaiting review, one
# returned with a comment), and one item of this month's homework is drawn from the approved
# design's basic layer (a reading task, not written: it adds nothing to the day's written
# minutes, which the week's demo homework above has nearly filled). Idempotent: designs by
# title; the drawn item once a month (the dashboard panel's period). One transaction.

DESIGN_GRADE = 3
# title, subject, unit, {level: (content, minutes)}, fate
DESIGNS = [
    ("寓言故事分层阅读作业", "语文", "第二单元 寓言故事", {
        "basic": ("朗读《守株待兔》《陶罐和铁罐》，把其中一个故事讲给家长听。", 10),
        "improve": ("用自己的话写出一则寓言告诉我们的道理（不少于三句话）。", 15),
        "extend": ("课外读一则《伊索寓言》，和同学交流读后感受。", 20),
    }, "approved"),
    ("两位数乘法巩固练习", "数学", "第四单元 两位数乘两位数", {
        "basic": ("完成课本第52页练习1-4题。", 15),
        "improve": ("用两种方法验算第3题，说说哪种方法更简便。", 10),
    }, "submitted"),
    ("动物主题英语听说作业", "英语", "Unit 3 Look at me", {
        "basic": ("听录音跟读单词和对话三遍。", 10),
    }, "returned"),
]  # fmt: skip
FATES = {"approved": "通过并推广", "submitted": "待审核", "returned": "退回"}
RETURN_COMMENT = "请补充提高层作业，并写明跟读材料的页码，便于家长辅导。"
READING = {"written": False, "content": ""}  # the layer's content, read aloud at home


def _load_designs(teacher, today) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from homework import designs
    from homework.design_models import DesignUse, HomeworkDesign, ReviewMember
    from portal.demo import refuse_in_production

    refuse_in_production()
    users = get_user_model().objects.in_bulk(
        ["principal_shiyan", "jiaowu_shiyan", "bureau_homework"], field_name="username"
    )
    reviewer = SchoolStaff.objects.filter(user__username="jiaowu_shiyan").first()
    if len(users) != 3 or reviewer is None:
        return []
    school = teacher.school
    lines = []
    with transaction.atomic():
        if not ReviewMember.objects.filter(staff=reviewer).exists():
            designs.reviewer_designate(actor=users["principal_shiyan"], staff_id=reviewer.pk)
            lines.append(f"作业设计库：{reviewer.name}加入{school.name}作业审核小组")
        have = dict(
            HomeworkDesign.objects.filter(
                school=school, title__in=[d[0] for d in DESIGNS]
            ).values_list("title", "pk")
        )
        made = []
        for title, subject, unit, layers, fate in DESIGNS:
            if title in have:
                continue
            design = designs.design_submit(
                actor=teacher.user, grade=DESIGN_GRADE, subject=subject, unit=unit,
                title=title, layers=layers,
            )  # fmt: skip
            have[title] = design.pk
            if fate == "approved":
                designs.design_review(
                    actor=users["jiaowu_shiyan"], design_id=design.pk, decision="approve",
                    comment="分层清晰，用时合理。",
                )  # fmt: skip
                designs.design_share(actor=users["bureau_homework"], design_id=design.pk)
            elif fate == "returned":
                designs.design_review(
                    actor=users["jiaowu_shiyan"], design_id=design.pk, decision="return",
                    comment=RETURN_COMMENT,
                )  # fmt: skip
            made.append(f"{title}（{FATES[fate]}）")
        if made:
            lines.append(f"作业设计库：{teacher.name}提交 {len(made)} 份：" + "、".join(made))
        approved = HomeworkDesign.objects.filter(
            pk=have[DESIGNS[0][0]], status=HomeworkDesign.Status.APPROVED
        ).first()
        month = (today.replace(day=1), today)
        school_class = school.classes.filter(grade=DESIGN_GRADE, head_teacher=teacher).first()
        used = DesignUse.objects.filter(
            item__school_class__school=school, item__date__range=month
        ).exists()
        if approved is not None and school_class is not None and not used:
            layer = approved.layers.get(level="basic")
            homework_publish(
                user=teacher.user, school_class_id=school_class.pk, date=today,
                design_layer=layer.pk, **READING,
            )  # fmt: skip
            lines.append(f"作业设计库：{school_class}今日作业选用“{approved.title}”基础层")
    return lines
