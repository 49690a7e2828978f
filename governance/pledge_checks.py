"""Nightly check of commitment letters (承诺书): a school with letters still unsigned after its
campaign's deadline is a finding of the 基础教育 line (the rule's first part routes it), one
per campaign and school; it resolves on the first night every letter there is signed."""

from governance.pledge_models import PledgeCampaign
from governance.pledges import unsigned_after_deadline
from portal.compliance import Found, register
from portal.models import Finding, School


@register(
    "governance.pledge.unsigned_after_deadline",
    title="承诺书逾期未签署",
    severity=Finding.Severity.WARNING,
)
def unsigned_after_deadline_check(for_date):
    rows = unsigned_after_deadline(for_date)
    if not rows:
        return
    schools = School.objects.in_bulk({r["school_id"] for r in rows})
    campaigns = PledgeCampaign.objects.select_related("template").in_bulk(
        {r["campaign_id"] for r in rows}
    )
    for r in rows:
        school, campaign = schools[r["school_id"]], campaigns[r["campaign_id"]]
        yield Found(
            key=f"pledge:{campaign.pk}:school:{school.pk}",
            school=school,
            message=f"{school}：{campaign}的承诺书截止 {campaign.deadline}，"
            f"仍有 {r['n']} 名教职工未签署。",
        )
