"""Data for the design library's tests: a review group, designs in each state."""

from homework import designs
from portal.models import SchoolStaff
from tests.factories import SchoolStaffFactory

LAYERS = {
    "basic": ("口算练习20题，巩固两位数乘法", 15),
    "improve": ("解决问题3道：购物中的乘法", 10),
    "extend": ("调查家中一周用电量并列乘法算式", 20),
}


def reviewer(world, username="shenhe", name="审核组长"):
    staff = SchoolStaffFactory(
        school=world.school_a, role=SchoolStaff.Role.ACADEMIC, name=name, user__username=username
    )
    designs.reviewer_designate(actor=world.principal_a, staff_id=staff.pk)
    return staff.user


def submit(world, author=None, *, title="两位数乘两位数分层作业", grade=3, subject="数学",
           unit="第四单元 两位数乘两位数", layers=None):  # fmt: skip
    return designs.design_submit(
        actor=author or world.teacher_a, grade=grade, subject=subject, unit=unit, title=title,
        layers=layers or LAYERS,
    )  # fmt: skip


def approved(world, rev=None, **kw):
    design = submit(world, **kw)
    designs.design_review(actor=rev or reviewer(world), design_id=design.pk, decision="approve")
    design.refresh_from_db()
    return design
