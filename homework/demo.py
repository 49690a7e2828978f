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
    return [f"作业公示：本周新增 {created} 项作业"] if created else []
