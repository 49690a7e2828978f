from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from portal.demo import DemoRefused, load_demo, refuse_in_production


class Command(BaseCommand):
    help = (
        "Load the demo district (idempotent). Prints the passwords of accounts it creates. "
        "Refused in production (PORTAL_PRODUCTION=true)."
    )

    def handle(self, *args, **options):
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
