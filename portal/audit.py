"""The audit log: who changed which object how, written inside the change's transaction."""

import datetime as dt
import decimal
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Model
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.models import AuditLog


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def snapshot(obj: Model, fields) -> dict:
    """The values of ``fields`` of ``obj``, ready for an audit row."""
    return {name: _jsonable(getattr(obj, f"{name}_id", getattr(obj, name))) for name in fields}


def _audit_row(*, actor, action: str, obj: Model | None, old, new) -> AuditLog:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditLog(
        actor=user,
        actor_repr=(user.get_username() if user else str(actor or "system"))[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        old=_jsonable(old),
        new=_jsonable(new),
    )


def audit_record(*, actor, action: str, obj: Model | None = None, old=None, new=None) -> AuditLog:
    """Write one audit row. Must run inside the transaction of the change it records, so
    that the change and its record commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside transaction.atomic()")
    row = _audit_row(actor=actor, action=action, obj=obj, old=old, new=new)
    row.save(force_insert=True)
    return row


_INSERTS: dict = {}


def _insert_parts(model):
    """(table, the columns an insert writes, their fields) of ``model``: its local concrete
    fields but an auto primary key (the database draws it)."""
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f not in meta.db_returning_fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return connection.ops.quote_name(meta.db_table), columns, fields


def _insert_sql(model) -> tuple[str, list, list]:
    """The statement of ``create_audited`` for ``model`` (built once): the row, then its
    audit row with the row's new id as object_id. (sql, the row's fields, the audit's)."""
    if model not in _INSERTS:
        table, columns, fields = _insert_parts(model)
        audit_table, audit_columns, audit_fields = _insert_parts(AuditLog)
        pk = connection.ops.quote_name(model._meta.pk.column)
        select = ", ".join(
            f"new_row.{pk}::text" if f.name == "object_id" else "%s" for f in audit_fields
        )
        sql = (
            f"WITH new_row AS (INSERT INTO {table} ({columns})"
            f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {pk}),"
            f" new_audit AS (INSERT INTO {audit_table} ({audit_columns})"
            f" SELECT {select} FROM new_row)"
            f" SELECT {pk} FROM new_row"
        )
        _INSERTS[model] = (sql, fields, [f for f in audit_fields if f.name != "object_id"])
    return _INSERTS[model]


def create_audited(obj: Model, *, actor, action: str, old=None, new=None) -> Model:
    """Insert ``obj`` (a new instance) and its audit row in one statement: what
    ``obj.save()`` and then ``audit_record(actor=actor, action=action, obj=obj, old=old,
    new=new)`` write, in one round trip and without compiling two inserts (issue 20: the
    enrolment burst's rows, written under the course's lock). ``str(obj)`` must not depend
    on its id (the audit row's object_repr is made before the insert). A model that
    overrides save() or has save signals is saved and audited the ordinary way."""
    from django.db.models.signals import post_save, pre_save

    model = type(obj)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("create_audited must be called inside transaction.atomic()")
    plain = (
        model.save is Model.save
        and not pre_save.has_listeners(model)
        and not post_save.has_listeners(model)
        and obj.pk is None
        and model._meta.pk in model._meta.db_returning_fields
    )
    if not plain:  # as audit_record does, after the row's own save
        obj.save(force_insert=True)
        _audit_row(actor=actor, action=action, obj=obj, old=old, new=new).save(force_insert=True)
        return obj
    sql, fields, audit_fields = _insert_sql(model)
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    row = _audit_row(actor=actor, action=action, obj=obj, old=old, new=new)
    audit = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in audit_fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *audit])
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj


# --- what an action code means, in words ---------------------------------------------------
# One table for every app: the audit log's admin (and any page that shows the log) shows these
# words instead of the code. tests/portal/test_labels.py reads every audit_record() call of
# the code base and fails on a code without words here.

ACTION_WORDS = {
    # portal
    "auth.password_changed": _("修改密码"),
    "portal.parent.phone_shown": _("查看家长完整手机号"),
    "portal.notice.read_all": _("站内通知全部标为已读"),
    "portal.checkrun.started": _("开始检查运行"),
    "portal.checkrun.marked_failed": _("检查运行标记为失败"),
    "portal.term.active": _("学期启用"),
    "portal.term.closed": _("学期结束"),
    "portal.term.archived": _("学期归档"),
    "portal.finding.assigned": _("检查发现交办"),
    "portal.finding.answered": _("检查发现反馈整改"),
    "portal.finding.returned": _("检查发现整改退回"),
    "portal.finding.closed": _("检查发现办结"),
    # homework
    "homework.item.published": _("发布作业"),
    "homework.item.changed": _("修改作业"),
    "homework.item.withdrawn": _("撤回作业"),
    "homework.report.created": _("家长反馈作业用时"),
    "homework.report.changed": _("家长修改反馈用时"),
    "homework.survey.created": _("创建作业量问卷"),
    "homework.survey.answered": _("家长填写作业量问卷"),
    "homework.inspection.recorded": _("记录作业督查"),
    "homework.inspection_issue.closed": _("督查问题整改完毕"),
    # afterschool: plans, providers, courses, enrolment
    "afterschool.plan.created": _("新建课后服务方案"),
    "afterschool.plan.changed": _("修改课后服务方案"),
    "afterschool.plan.submitted": _("提交课后服务方案"),
    "afterschool.plan.approved": _("批准课后服务方案"),
    "afterschool.plan.returned": _("退回课后服务方案"),
    "afterschool.plan.started": _("课后服务方案开始实施"),
    "afterschool.plan.closed": _("课后服务方案结束"),
    "afterschool.room.created": _("新增教室与场地"),
    "afterschool.day.closed": _("登记学校停课日"),
    "afterschool.provider.applied": _("第三方机构申请准入"),
    "afterschool.provider.admitted": _("第三方机构准入"),
    "afterschool.provider.rejected": _("第三方机构未通过准入"),
    "afterschool.provider.exited": _("第三方机构退出"),
    "afterschool.provider.changed": _("修改第三方机构"),
    "afterschool.provider.reviewed": _("第三方机构年审"),
    "afterschool.provider.qualification_reviewed": _("审核第三方机构资质"),
    "afterschool.contract.added": _("新增服务合同"),
    "afterschool.offering.created": _("新建课后服务课程"),
    "afterschool.offering.changed": _("修改课后服务课程"),
    "afterschool.offering.published": _("课后服务课程开放报名"),
    "afterschool.offering.cancelled": _("取消课后服务课程"),
    "afterschool.offering.finished": _("课后服务课程结课"),
    "afterschool.offering.term_closed": _("学期结束，课后服务课程结课"),
    "afterschool.enrolment.enrolled": _("报名成功"),
    "afterschool.enrolment.waiting": _("报名候补"),
    "afterschool.enrolment.withdrawn": _("退出报名"),
    "afterschool.enrolment.completed": _("报名结课"),
    "afterschool.enrolment.promoted": _("候补转为报名"),
    "afterschool.enrolment.switched": _("换课"),
    # afterschool: fees
    "afterschool.waiver.set": _("设置费用减免"),
    "afterschool.bill.issued": _("开具课后服务账单"),
    "afterschool.bill.issued_period": _("按期开具课后服务账单"),
    "afterschool.bill.paid": _("账单已缴费"),
    "afterschool.bill.refunded": _("账单退费"),
    "afterschool.bill.cancelled": _("取消账单"),
    "afterschool.payment.started": _("发起缴费"),
    "afterschool.payment.failed": _("缴费失败"),
    "afterschool.payment.returned": _("缴费退回"),
    "afterschool.payment.transfer_confirmed": _("确认转账缴费"),
    "afterschool.settlement.posted": _("课后服务学期结算入账"),
    # afterschool: lessons and attendance
    "afterschool.lesson.in": _("教师签到"),
    "afterschool.lesson.out": _("教师签离"),
    "afterschool.lesson.roll": _("点名"),
    "afterschool.lesson.moved": _("调课"),
    "afterschool.lesson.move_undone": _("撤销调课"),
    "afterschool.lesson.cancelled": _("取消课次"),
    "afterschool.leave.requested": _("家长请假"),
    "afterschool.leave.withdrawn": _("撤回请假"),
    "afterschool.leave.approved": _("批准请假"),
    "afterschool.leave.rejected": _("不批准请假"),
    "afterschool.attendance.corrected": _("更正考勤"),
    "afterschool.attendance.correction_requested": _("申请更正考勤"),
    "afterschool.attendance.correction_rejected": _("驳回考勤更正申请"),
    "afterschool.rating.given": _("家长评价课程"),
    "afterschool.survey.answered": _("家长填写满意度调查"),
    # institutions
    "institutions.institution.registered": _("登记培训机构"),
    "institutions.institution.imported": _("导入培训机构"),
    "institutions.institution.changed": _("修改培训机构"),
    "institutions.institution.deleted": _("删除培训机构"),
    "institutions.institution.suspended": _("暂停培训机构"),
    "institutions.institution.resumed": _("恢复培训机构"),
    "institutions.institution.revoked": _("吊销培训机构办学许可证"),
    "institutions.credit_code.overridden": _("统一社会信用代码校验位例外"),
    "institutions.register.exported": _("导出培训机构名录"),
    "institutions.review.recorded": _("记录年检结果"),
    "institutions.course.created": _("新增培训课程"),
    "institutions.course.changed": _("修改培训课程"),
    "institutions.complaint.filed": _("收到举报投诉"),
    "institutions.complaint.accepted": _("受理举报投诉"),
    "institutions.complaint.rejected": _("不予受理举报投诉"),
    "institutions.complaint.assigned": _("交办举报投诉"),
    "institutions.complaint.answered": _("反馈举报投诉办理情况"),
    "institutions.complaint.returned": _("退回举报投诉办理情况"),
    "institutions.complaint.closed": _("举报投诉办结"),
    "institutions.complaint.contact_shown": _("查看举报人联系方式"),
    "institutions.supervisedaccount.added": _("新增资金监管账户"),
    "institutions.supervisedaccount.changed": _("修改资金监管账户"),
    "institutions.supervisedaccount.deleted": _("删除资金监管账户"),
    "institutions.annualreview.added": _("新增年检记录"),
    "institutions.annualreview.changed": _("修改年检记录"),
    "institutions.annualreview.deleted": _("删除年检记录"),
    "institutions.governance.pending": _("治理状态改为待治理"),
    "institutions.governance.converting": _("开始营转非"),
    "institutions.governance.converted": _("完成营转非"),
    "institutions.governance.stripping": _("开始剥离学科类培训"),
    "institutions.governance.stripped": _("完成剥离学科类培训"),
    "institutions.governance.deregistering": _("开始注销"),
    "institutions.governance.deregistered": _("完成注销"),
    "institutions.escrow.purchase_recorded": _("登记预收费"),
    "institutions.escrow.lessons_consumed": _("机构登记已上课时"),
    "institutions.escrow.lessons_confirmed": _("家长确认课时"),
    "institutions.escrow.released": _("释放监管资金"),
    "institutions.escrow.refunded": _("退费"),
    "institutions.escrow.refunded_full": _("全额退费"),
    "institutions.escrow.reversed": _("冲正记账"),
    "institutions.escrow.dispute_opened": _("家长提出异议"),
    "institutions.escrow.dispute_closed": _("异议处理完毕"),
    "institutions.escrow.statement_imported": _("导入银行流水"),
    "institutions.escrow.statement_rematched": _("重新匹配银行流水"),
    "institutions.escrow.bank_line_booked": _("银行流水入账"),
    "institutions.inspection.round_created": _("新建检查批次"),
    "institutions.inspection.drawn": _("随机抽取检查对象"),
    "institutions.inspection.group_added": _("新增检查组"),
    "institutions.inspection.visited": _("记录现场检查"),
    "institutions.inspection.patrol_recorded": _("记录巡查"),
    "institutions.enforcement.interviewed": _("约谈培训机构"),
    "institutions.enforcement.notice_published": _("发布通报"),
    "institutions.sanction.warning": _("处罚：警告"),
    "institutions.sanction.rectify": _("处罚：责令整改"),
    "institutions.sanction.suspend": _("处罚：暂停办学"),
    "institutions.sanction.revoke": _("处罚：吊销办学许可证"),
    "institutions.sanction.closed": _("处罚办结"),
    # cases
    "cases.document.imported": _("导入案例来源文件"),
    "cases.document.changed": _("修改案例来源文件"),
    "cases.document.deleted": _("删除案例来源文件"),
    "cases.case.created": _("新建典型案例"),
    "cases.case.submitted": _("提交典型案例"),
    "cases.case.resubmitted": _("重新提交典型案例"),
    "cases.case.deleted": _("删除典型案例"),
    "cases.case.returned": _("退回典型案例"),
    "cases.case.selected": _("遴选典型案例"),
    "cases.case.published": _("推广典型案例"),
    "governance.pledge_template.created": _("新建承诺书模板"),
    "governance.pledge_template.changed": _("修改承诺书模板"),
    "governance.pledge_template.versioned": _("承诺书模板生成新版本"),
    "governance.pledge_campaign.issued": _("发放承诺书"),
    "governance.pledge_campaign.renewed": _("承诺书年度续签"),
    "governance.pledge_letter.signed": _("教师签署承诺书"),
    "governance.exam.created": _("录入考试安排"),
    "governance.exam.changed": _("修改考试安排"),
    "governance.exam.deleted": _("删除考试安排"),
    "governance.letter.sent": _("发送致家长的一封信"),
    "governance.letter.read": _("家长阅读致家长的一封信"),
    "institutions.claim.recorded": _("机构登记消课"),
    "institutions.claim.confirmed": _("家长确认消课"),
    "institutions.claim.disputed": _("家长对消课提出异议"),
    "institutions.claim.auto_confirmed": _("消课逾期自动确认"),
    "institutions.account.created": _("开通机构管理员账号"),
    "institutions.account.requested": _("机构申请开通账号"),
    "institutions.account.request_approved": _("批准机构账号申请"),
    "institutions.account.request_rejected": _("驳回机构账号申请"),
    "institutions.account.staff_added": _("机构添加工作人员账号"),
    "institutions.account.staff_deactivated": _("机构停用工作人员账号"),
    "institutions.course.filed": _("机构提交课程备案"),
    "institutions.course.drafted": _("机构保存课程草稿"),
    "institutions.course.approved": _("课程备案通过"),
    "institutions.course.returned": _("课程备案退回"),
    "governance.draw.created": _("新建阳光分班"),
    "governance.draw.list_entered": _("录入分班名单"),
    "governance.draw.published": _("公布分班承诺"),
    "governance.draw.drawn": _("阳光分班抽签"),
    "governance.draw.superseded": _("决定重新分班（原分班作废）"),
    "institutions.refund.asked": _("家长申请退费"),
    "institutions.refund.agreed": _("机构同意退费"),
    "institutions.refund.refused": _("机构拒绝退费"),
    "institutions.refund.escalated": _("退费申请逾期转教育局"),
    "institutions.refund.decided_refund": _("教育局决定退费"),
    "institutions.refund.decided_reject": _("教育局驳回退费申请"),
    "institutions.refund.batch_started": _("开始停业机构批量退费"),
    "institutions.refund.batch_refunded": _("停业机构批量退费（单笔）"),
    "institutions.refund.batch_finished": _("停业机构批量退费完成"),
    "institutions.sale.offered": _("登记销售"),
    "institutions.sale.accepted": _("家长确认合同"),
    "institutions.sale.declined": _("家长拒绝购买"),
    "institutions.sale.cancelled": _("撤销销售"),
    "institutions.sale.expired": _("要约过期"),
    "institutions.sale.linked": _("关联家长账号"),
    "institutions.sale.paid": _("预收费到账"),
    "institutions.sale.notice_kept": _("到账未入账（待退回）"),
    "institutions.sale.contract_published": _("发布合同示范文本"),
    "governance.care.read": _("查看关爱档案"),
    "governance.care.opened": _("建立关爱档案"),
    "governance.care.updated": _("修改关爱档案"),
    "governance.care.closed": _("关爱档案结档"),
    "governance.care.contact_logged": _("登记家访/谈心"),
    "governance.care.staff_designated": _("指定关爱帮扶专干"),
    "governance.care.staff_removed": _("取消关爱帮扶专干"),
    "homework.design.submitted": _("提交作业设计"),
    "homework.design.resubmitted": _("重新提交作业设计"),
    "homework.design.approved": _("作业设计审核通过"),
    "homework.design.returned": _("退回作业设计"),
    "homework.design.shared": _("推广作业设计"),
    "homework.design.reviewer_added": _("加入作业审核小组"),
    "homework.design.reviewer_removed": _("移出作业审核小组"),
    "supply.fair.opened": _("举办双向选择会"),
    "supply.fair.closed": _("双向选择会截止填报"),
    "supply.fair.matched": _("双向选择会匹配"),
    "supply.fair_need.posted": _("发布课后服务需求"),
    "supply.fair_need.ranked": _("学校填报志愿"),
    "supply.fair_offer.posted": _("发布课后服务供给"),
    "supply.fair_offer.ranked": _("机构填报志愿"),
    "supply.fair_need.withdrawn": _("撤回课后服务需求"),
    "supply.fair_offer.withdrawn": _("撤回课后服务供给"),
    "supply.catalogue.package_published": _("发布公益课程包"),
    "supply.catalogue.package_withdrawn": _("撤下公益课程包"),
    "supply.catalogue.ordered": _("公益课程包点单"),
    "supply.catalogue.dispatched": _("公益课程包派单"),
    "supply.catalogue.visit_recorded": _("记录送课"),
    "supply.catalogue.visit_confirmed": _("学校确认送课并评分"),
    "supply.catalogue.locality_set": _("设置学校城乡属性"),
    "supply.organisation.registered": _("供给方组织注册"),
    "supply.organisation.deactivated": _("停用供给方组织"),
    "supply.organisation.provider_linked": _("组织关联课后服务机构名单"),
    "supply.member.added": _("组织添加工作人员"),
    "supply.member.deactivated": _("组织停用工作人员"),
    "supply.expert.created": _("评审专家入库"),
    "supply.expert.deactivated": _("评审专家移出专家库"),
    "supply.call.opened": _("发布公开征集"),
    "supply.call.expert_assigned": _("公开征集指派评审专家"),
    "supply.call.admitted": _("公开征集确定准入并公布结果"),
    "supply.application.submitted": _("提交公开征集申报"),
    "supply.conflict.declared": _("评审专家申报利益冲突回避"),
    "supply.score.saved": _("评审专家评分"),
    "afterschool.funding.subsidy_posted": _("课后服务财政奖补入账"),
    "afterschool.funding.teacher_pay_reported": _("上报教师课时补助月报"),
    "afterschool.site.created": _("登记社区托管点"),
    "afterschool.site.changed": _("修改社区托管点"),
    "afterschool.site.stopped": _("停用社区托管点"),
    "afterschool.site.enabled": _("启用社区托管点"),
    "afterschool.site.safety_checked": _("登记托管点安全检查"),
    "afterschool.site.operator_created": _("开通托管点管理员账号"),
    "afterschool.site.operator_deactivated": _("停用托管点管理员账号"),
    "afterschool.holiday.designated": _("指定假期托管点"),
    "afterschool.holiday.changed": _("修改假期托管点"),
    "afterschool.holiday.opened": _("开放假期托管点"),
    "afterschool.holiday.closed": _("关闭假期托管点"),
    "afterschool.plan.item_added": _("添加方案服务项目"),
    "afterschool.person.registered": _("登记志愿者/社会资源人员"),
    "afterschool.person.updated": _("修改志愿者/社会资源人员信息"),
    "afterschool.offering.people_named": _("新建课程时安排授课人员"),
    "afterschool.offering.person_added": _("安排课程授课人员"),
    "afterschool.offering.person_removed": _("移除课程授课人员"),
    "afterschool.lesson.person_added": _("安排课次授课人员"),
    "afterschool.lesson.person_removed": _("移除课次授课人员"),
    "afterschool.person.phone_shown": _("查看志愿者/社会资源人员完整手机号"),
    "afterschool.lunch.month_opened": _("开设午托月份"),
    "afterschool.lunch.enrolled": _("午托报名"),
    "afterschool.lunch.month_changed": _("调整午托名额和床位"),
}

# The admin's audited saves (portal.services.save_audited, the inline saves) write
# "<app>.<model>.<verb>" for any model: these read as the verb and the model's name.
GENERIC_VERBS = {
    "created": _("新增"),
    "added": _("新增"),
    "changed": _("修改"),
    "deleted": _("删除"),
}


def action_words(code: str):
    """The Chinese words for an audit action code, or None when the code has none."""
    if code in ACTION_WORDS:
        return ACTION_WORDS[code]
    parts = code.split(".")
    if len(parts) == 3 and parts[2] in GENERIC_VERBS:
        from django.apps import apps

        try:
            model = apps.get_model(parts[0], parts[1])
        except LookupError:
            return None
        return format_lazy("{}{}", GENERIC_VERBS[parts[2]], model._meta.verbose_name)
    return None


def action_display(code: str) -> str:
    """What a page shows for ``code``: its words, or the code itself if it has none (the
    label test makes sure none is missing)."""
    words = action_words(code)
    return str(words) if words is not None else code
