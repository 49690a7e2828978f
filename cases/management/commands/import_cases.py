from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.services import NotACollection, check_import_size, decode_upload, document_import


class Command(BaseCommand):
    help = "Import a published collection of typical cases from a plain-text file."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, files, **options):
        failed = False
        for name in files:
            path = Path(name)
            try:
                check_import_size(path.stat().st_size)  # before reading it into memory
                text = decode_upload(path.read_bytes())
                result = document_import(text=text, filename=path.name)
            except OSError as exc:
                self.stderr.write(f"{name}: 无法读取文件：{exc.strerror}")
                failed = True
                continue
            except NotACollection as exc:
                self.stderr.write(f"{name}: 未导入。{exc}")
                failed = True
                continue
            doc = result.document
            if result.created:
                self.stdout.write(
                    f"{name}: 已导入《{doc.title}》{doc.doc_number}，{result.cases} 个案例"
                )
                for title in result.skipped:
                    self.stdout.write(f"{name}: 已在案例库中（正文相同），跳过：{title}")
            else:
                self.stdout.write(
                    f"{name}: 《{doc.title}》此前已导入（{result.cases} 个案例），未做改动"
                )
        if failed:
            raise CommandError("部分文件未导入，见上")
