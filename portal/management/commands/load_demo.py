from django.core.management.base import BaseCommand

from portal.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo district (idempotent). Prints the passwords of accounts it creates."

    def handle(self, *args, **options):
        created = load_demo()
        if not created:
            self.stdout.write("演示数据已存在，未新增账号（密码仅在首次创建时显示）。")
            return
        self.stdout.write("新建的演示账号（密码只显示这一次，请妥善保存）：")
        for username, password in created:
            self.stdout.write(f"  {username:<22} {password}")
