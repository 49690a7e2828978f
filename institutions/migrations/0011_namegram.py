"""The public search's own index (issue 20): institutions_namegram, one row per two-character
piece of each institution's name (as institutions.search.grams cuts it: lower case, no
white space), with the name, under a unique index (gram, name, institution_id) that lists a
piece's institutions in the search's order. Kept by triggers on institutions_institution,
whatever writes it (a service, the admin, an import, raw SQL):

* AFTER INSERT, once per statement (its new rows as a transition table): their pieces added;
* AFTER UPDATE OF name, per row whose name changed: its pieces replaced;
* a delete: Django's cascade (the foreign key), as for every other child row.
"""

import django.db.models.deletion
from django.db import migrations, models

# the pieces of the names of `rows` (a table or transition table with id and name)
PIECES = """
    INSERT INTO institutions_namegram (gram, name, institution_id)
    SELECT DISTINCT substr(s.t, i, 2), s.name, s.id
    FROM (SELECT r.id, r.name, lower(regexp_replace(r.name, '\\s', '', 'g')) AS t
          FROM {rows} r) s,
         generate_series(1, char_length(s.t) - 1) i
"""

FORWARD = f"""
CREATE OR REPLACE FUNCTION institutions_namegram_added() RETURNS trigger AS $$
BEGIN
    {PIECES.format(rows="added")};
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION institutions_namegram_renamed() RETURNS trigger AS $$
BEGIN
    DELETE FROM institutions_namegram WHERE institution_id = OLD.id;
    {PIECES.format(rows="(SELECT NEW.id AS id, NEW.name AS name)")};
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER institutions_namegram_added AFTER INSERT ON institutions_institution
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION institutions_namegram_added();
CREATE TRIGGER institutions_namegram_renamed AFTER UPDATE OF name ON institutions_institution
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION institutions_namegram_renamed();

{PIECES.format(rows="institutions_institution")};
"""

BACKWARD = """
DROP TRIGGER IF EXISTS institutions_namegram_added ON institutions_institution;
DROP TRIGGER IF EXISTS institutions_namegram_renamed ON institutions_institution;
DROP FUNCTION IF EXISTS institutions_namegram_added();
DROP FUNCTION IF EXISTS institutions_namegram_renamed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0010_institution_district_colour_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameGram",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("gram", models.CharField(max_length=2)),
                ("name", models.CharField(max_length=200)),
                (
                    "institution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="institutions.institution",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("gram", "name", "institution"), name="inst_namegram_key"
                    )
                ],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
