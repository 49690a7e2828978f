"""The list colour stored on the institution (issue 20): list_colour, list_reasons and
colour_until, written only by institutions.colour.refresh, and the triggers that keep them
honest whatever writes the inputs (a service, the admin, raw SQL, another program):

* institutions_institution, BEFORE INSERT OR UPDATE: outside a refresh (the transaction-local
  setting portal.colour_refresh = 'on', set by colour.refresh around its one UPDATE) the
  stored colour and reasons cannot be written and colour_until can only be cleared (stale);
  a change of an input column (licence_number, licence_revoked, licence_expires, governance,
  suspended_reason) clears colour_until, even during a refresh;
* institutions_supervisedaccount (a row added or removed, active or the institution changed),
  institutions_annualreview (added, removed, result/date/institution changed) and
  institutions_sanction (a 责令整改 added, removed, or its deadline/closing/kind changed):
  AFTER, colour_until of the institution(s) concerned := NULL. The UPDATE runs even when it
  is NULL already: it takes the institution's row lock, which colour.refresh holds while it
  reads the inputs, so a refresh can never store a colour computed from inputs that a
  concurrent transaction has changed;
* institutions_trainingpolicy: a change of review_valid_months (or the row appearing or
  going) makes every stored colour stale.

A stale row is never wrong, only slower: every reader computes it from the inputs
(colour.stored_colour_expression / colour.stored_verdict) until the next refresh.
"""

from django.db import migrations, models

INPUTS = ["licence_number", "licence_revoked", "licence_expires", "governance", "suspended_reason"]

FORWARD = f"""
CREATE OR REPLACE FUNCTION institutions_colour_guard() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('portal.colour_refresh', true), '') <> 'on' THEN
        IF TG_OP = 'INSERT' THEN
            NEW.list_colour := '';
            NEW.list_reasons := '[]'::jsonb;
            NEW.colour_until := NULL;
        ELSE
            NEW.list_colour := OLD.list_colour;
            NEW.list_reasons := OLD.list_reasons;
            IF NEW.colour_until IS NOT NULL THEN
                NEW.colour_until := OLD.colour_until;
            END IF;
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND ({" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in INPUTS)})
    THEN
        NEW.colour_until := NULL;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER institutions_colour_guard
    BEFORE INSERT OR UPDATE ON institutions_institution
    FOR EACH ROW EXECUTE FUNCTION institutions_colour_guard();

CREATE OR REPLACE FUNCTION institutions_colour_stale() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE institutions_institution SET colour_until = NULL WHERE id = OLD.institution_id;
    END IF;
    IF TG_OP = 'INSERT'
       OR (TG_OP = 'UPDATE' AND NEW.institution_id IS DISTINCT FROM OLD.institution_id) THEN
        UPDATE institutions_institution SET colour_until = NULL WHERE id = NEW.institution_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER institutions_account_colour_stale
    AFTER INSERT OR DELETE ON institutions_supervisedaccount
    FOR EACH ROW EXECUTE FUNCTION institutions_colour_stale();
CREATE TRIGGER institutions_account_colour_stale_update
    AFTER UPDATE ON institutions_supervisedaccount
    FOR EACH ROW WHEN (NEW.active IS DISTINCT FROM OLD.active
                       OR NEW.institution_id IS DISTINCT FROM OLD.institution_id)
    EXECUTE FUNCTION institutions_colour_stale();

CREATE TRIGGER institutions_review_colour_stale
    AFTER INSERT OR DELETE ON institutions_annualreview
    FOR EACH ROW EXECUTE FUNCTION institutions_colour_stale();
CREATE TRIGGER institutions_review_colour_stale_update
    AFTER UPDATE ON institutions_annualreview
    FOR EACH ROW WHEN (NEW.result IS DISTINCT FROM OLD.result
                       OR NEW.date IS DISTINCT FROM OLD.date
                       OR NEW.institution_id IS DISTINCT FROM OLD.institution_id)
    EXECUTE FUNCTION institutions_colour_stale();

CREATE TRIGGER institutions_sanction_colour_stale_insert
    AFTER INSERT ON institutions_sanction
    FOR EACH ROW WHEN (NEW.kind = 'rectify')
    EXECUTE FUNCTION institutions_colour_stale();
CREATE TRIGGER institutions_sanction_colour_stale_delete
    AFTER DELETE ON institutions_sanction
    FOR EACH ROW WHEN (OLD.kind = 'rectify')
    EXECUTE FUNCTION institutions_colour_stale();
CREATE TRIGGER institutions_sanction_colour_stale_update
    AFTER UPDATE ON institutions_sanction
    FOR EACH ROW WHEN ((NEW.kind = 'rectify' OR OLD.kind = 'rectify')
                       AND (NEW.kind IS DISTINCT FROM OLD.kind
                            OR NEW.deadline IS DISTINCT FROM OLD.deadline
                            OR NEW.closed_on IS DISTINCT FROM OLD.closed_on
                            OR NEW.institution_id IS DISTINCT FROM OLD.institution_id))
    EXECUTE FUNCTION institutions_colour_stale();

CREATE OR REPLACE FUNCTION institutions_colour_stale_all() RETURNS trigger AS $$
BEGIN
    UPDATE institutions_institution SET colour_until = NULL WHERE colour_until IS NOT NULL;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER institutions_policy_colour_stale
    AFTER INSERT OR DELETE ON institutions_trainingpolicy
    FOR EACH ROW EXECUTE FUNCTION institutions_colour_stale_all();
CREATE TRIGGER institutions_policy_colour_stale_update
    AFTER UPDATE ON institutions_trainingpolicy
    FOR EACH ROW WHEN (NEW.review_valid_months IS DISTINCT FROM OLD.review_valid_months)
    EXECUTE FUNCTION institutions_colour_stale_all();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS institutions_policy_colour_stale_update ON institutions_trainingpolicy;
DROP TRIGGER IF EXISTS institutions_policy_colour_stale ON institutions_trainingpolicy;
DROP TRIGGER IF EXISTS institutions_sanction_colour_stale_update ON institutions_sanction;
DROP TRIGGER IF EXISTS institutions_sanction_colour_stale_delete ON institutions_sanction;
DROP TRIGGER IF EXISTS institutions_sanction_colour_stale_insert ON institutions_sanction;
DROP TRIGGER IF EXISTS institutions_review_colour_stale_update ON institutions_annualreview;
DROP TRIGGER IF EXISTS institutions_review_colour_stale ON institutions_annualreview;
DROP TRIGGER IF EXISTS institutions_account_colour_stale_update ON institutions_supervisedaccount;
DROP TRIGGER IF EXISTS institutions_account_colour_stale ON institutions_supervisedaccount;
DROP TRIGGER IF EXISTS institutions_colour_guard ON institutions_institution;
DROP FUNCTION IF EXISTS institutions_colour_stale_all();
DROP FUNCTION IF EXISTS institutions_colour_stale();
DROP FUNCTION IF EXISTS institutions_colour_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0008_sales_selling"),
    ]

    operations = [
        migrations.AddField(
            model_name="institution",
            name="list_colour",
            field=models.CharField(
                blank=True, editable=False, max_length=5, verbose_name="名单颜色（存储）"
            ),
        ),
        migrations.AddField(
            model_name="institution",
            name="list_reasons",
            field=models.JSONField(default=list, editable=False, verbose_name="名单原因（存储）"),
        ),
        migrations.AddField(
            model_name="institution",
            name="colour_until",
            field=models.DateField(editable=False, null=True, verbose_name="名单颜色有效至"),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
