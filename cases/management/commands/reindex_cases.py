from django.core.management.base import BaseCommand

from cases import search
from cases.models import Case


class Command(BaseCommand):
    help = (
        "Re-segment every case with the current dictionaries (cases/userdict.txt) and rebuild "
        "the search index; run it after editing the user dictionary."
    )

    def handle(self, *args, **options):
        count = search.reindex(Case.objects.all())
        self.stdout.write(f"已重建 {count} 个案例的检索索引")
