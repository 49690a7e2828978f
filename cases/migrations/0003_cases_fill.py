"""Data migration (cases helper, issue 14 part 6), alone in its file: fill what 0002 added
for the cases already stored.

- themes: the old first theme stays first; the other themes the keyword rules find in an
  imported case's text follow it (a school's own choice is left as it is);
- year: the date's year, else a year the case's or its collection's title names, else the
  latest year the collection's text reports (cases.parsing.infer_year);
- content_hash: the text's hash; a later case with the same text as an earlier one keeps
  NULL (the unique column would refuse it) and is counted in the output, for the bureau to
  delete in the admin;
- the search index: every case re-segmented with the user dictionary and counted into
  CaseTerm.

It calls cases.parsing and cases.search as they are at this commit (pure functions of the
text); reversing it leaves the filled values, which the schema reversal then drops.
"""

from django.db import migrations


def fill(apps, schema_editor):
    import datetime as dt

    from cases import search
    from cases.parsing import content_hash, infer_themes, infer_year, title_year

    Case = apps.get_model("cases", "Case")
    CaseTerm = apps.get_model("cases", "CaseTerm")
    latest = dt.date.today().year
    seen, duplicates, terms = set(), 0, []
    for case in Case.objects.select_related("source").order_by("pk").iterator(chunk_size=500):
        if case.source_id and case.theme_source in ("section", "inferred") and case.themes:
            case.themes = infer_themes(case.body, case.title, first=case.themes[0])
        if case.published_on:
            case.year, case.year_source = case.published_on.year, "date"
        else:
            titles = [case.title, case.source.title if case.source_id else ""]
            year = next((y for t in titles if (y := title_year(t, latest))), None)
            source = "title" if year else ""
            if year is None:
                year = infer_year(case.source.original if case.source_id else case.body, latest)
                source = "text" if year else ""
            case.year, case.year_source = year, source
        text_hash = content_hash(case.body)
        if text_hash in seen:
            duplicates += 1
            case.content_hash = None
        else:
            seen.add(text_hash)
            case.content_hash = text_hash
        search.prepare(case)
        case.save(
            update_fields=["themes", "year", "year_source", "content_hash", "search_title",
                           "search_body", "search_length"]
        )  # fmt: skip
        terms += [
            CaseTerm(case_id=case.pk, term=t, tf=n, dl=case.search_length)
            for t, n in search.term_counts(case.search_title, case.search_body).items()
        ]
        if len(terms) > 20000:
            CaseTerm.objects.bulk_create(terms)
            terms = []
    CaseTerm.objects.bulk_create(terms)
    if duplicates:
        print(f"\n  cases: {duplicates} 个案例与更早的案例正文相同（content_hash 留空），请在后台删除。")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_search_terms_themes_labels")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
