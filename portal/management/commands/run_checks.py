import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.compliance import RunInProgress, registry, run_checks


class Command(BaseCommand):
    help = (
        "Run the nightly compliance checks now, in this process (same checks as Celery). "
        "Refused while another run is running (one run at a time)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day to check, YYYY-MM-DD (default: today)")
        parser.add_argument("--rule", action="append", help="only this rule (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the registered checks")

    def handle(self, *args, date=None, rule=None, list=False, **options):
        if list:
            for code, check in registry().items():
                self.stdout.write(f"{code}\t{check.severity}\t{check.title}")
            return
        try:
            day = dt.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(f"--date 应为 YYYY-MM-DD 格式的日期，而不是 {date!r}") from None
        try:
            run = run_checks(for_date=day, rules=rule)
        except RunInProgress as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{run.for_date}: {run.get_status_display()}, 发现 {run.findings_seen} 条"
            f"（新增 {run.findings_new}，消除 {run.findings_resolved}），用时 {run.duration}"
        )
        if run.error:
            self.stderr.write(run.error)
            raise CommandError("部分检查出错，见上")
