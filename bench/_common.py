"""What every benchmark does first: the services, a database of its own, the schema."""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup_bench_database():
    """Start the embedded services when DATABASE_URL/REDIS_URL are unset, point Django at
    <database>_bench (created once and kept between runs, so data is filled only once), set
    Django up and migrate. Returns the services, to stop at the end."""
    from portal.embedded import Services, ensure_database, with_database

    services = Services()
    os.environ.update(services.start())
    url = os.environ["DATABASE_URL"]
    bench_db = (urlsplit(url).path.lstrip("/") or "portal") + "_bench"
    ensure_database(with_database(url, "postgres"), bench_db)
    os.environ["DATABASE_URL"] = with_database(url, bench_db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return services
