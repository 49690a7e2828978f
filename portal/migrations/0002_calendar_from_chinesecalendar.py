"""Fill the calendar with every year the pinned chinesecalendar knows (2004-2026).

Later years are entered by staff in the admin when the State Council publishes them.
"""

from django.db import migrations


def fill(apps, schema_editor):
    import chinese_calendar

    from portal.schoolcalendar import HOLIDAY_NAMES

    CalendarYear = apps.get_model("portal", "CalendarYear")
    CalendarDay = apps.get_model("portal", "CalendarDay")
    days = {}
    for date, name in chinese_calendar.holidays.items():
        days[date] = ("holiday", HOLIDAY_NAMES.get(name, name))
    for date, name in chinese_calendar.workdays.items():
        if date.weekday() >= 5:
            days[date] = ("workday", HOLIDAY_NAMES.get(name, name))
    years = sorted({d.year for d in days})
    known = set(CalendarYear.objects.values_list("year", flat=True))
    for year in years:
        if year in known:
            continue
        CalendarYear.objects.create(year=year, source="chinesecalendar", note="chinesecalendar")
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(date=d, kind=kind, name=name)
                for d, (kind, name) in sorted(days.items())
                if d.year == year
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
