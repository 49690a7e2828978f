from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.compliance import RunInProgress, run_checks
from portal.demo import DemoRefused, load_demo, refuse_in_production
from portal.models import CheckRun

TRIGGER = "demo"  # CheckRun.trigger of the run this command starts


class Command(BaseCommand):
    help = (
        "Load the demo district (idempotent). Prints the passwords of accounts it creates. "
        "Then runs the nightly checks once for today, so the findings, the dashboard and the "
        "inbox have content before the first night. Refused in production "
        "(PORTAL_PRODUCTION=true)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-checks", action="store_true", help="load the data only, run no checks"
        )

    def handle(self, *args, no_checks=False, **options):
        try:
            # before anything is written, the apps' demo loaders included
            refuse_in_production()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        created = load_demo()
        if not created:
            self.stdout.write("演示数据已存在，未新增账号（密码仅在首次创建时显示）。")
        else:
            self.stdout.write("新建的演示账号（密码只显示这一次，请妥善保存）：")
            for username, password in created:
                self.stdout.write(f"  {username:<22} {password}")
        added = bool(created)
        # each line of work adds its own demo data (an app's demo.load_demo, if it has one)
        for config in apps.get_app_configs():
            if config.name == "portal":
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise  # a real import error inside a demo module
                continue
            for line in module.load_demo():
                self.stdout.write(line)
                added = True
        if not no_checks:
            self.run_checks(added=added)

    def run_checks(self, *, added: bool):
        """The nightly checks, once, in this process (no Celery worker needed), for today.

        Skipped when this load added nothing and a run for today has already succeeded: the
        findings are those of the same data, and a second `make run` stays quick. Run again
        whenever the demo added something (a first load, or data of a newly installed app),
        even if a run for today exists, e.g. the 02:00 run of an empty database."""
        today = timezone.localdate()
        done = CheckRun.objects.filter(for_date=today, status=CheckRun.Status.SUCCEEDED)
        if not added and done.exists():
            self.stdout.write(f"合规检查：今日（{today}）已运行且演示数据无变化，本次跳过。")
            return
        try:
            run = run_checks(for_date=today, trigger=TRIGGER)
        except RunInProgress as exc:  # beat's run, or another load: the findings come from it
            self.stderr.write(f"合规检查未运行：{exc}")
            return
        self.stdout.write(
            f"合规检查（{run.for_date}）：{run.get_status_display()}，发现 {run.findings_seen} 条"
            f"（新增 {run.findings_new}，消除 {run.findings_resolved}），用时 {run.duration}"
        )
        if run.error:
            # the run is kept as failed (the dashboard shows it); the demo itself is loaded,
            # so the portal still starts, with the error in plain sight
            self.stderr.write(f"部分检查出错（检查运行编号 {run.pk}）：\n{run.error}")
