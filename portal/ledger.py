"""The shared append-only double-entry ledger: abstract models, posting, reversal, balances.

An app that moves money (institutions' fee escrow, later after-school fees) makes two
concrete models from these bases, one migration with ``append_only_sql`` for their tables,
and posts through ``post`` and ``reverse`` only.

Conventions
  * Amounts are Decimal yuan with exactly two places; an entry's amount is never zero.
    Positive = debit, negative = credit: each transaction's entries sum to zero, so the sum
    of every entry in the ledger is zero too.
  * Accounts are codes, lowercase, colon-separated: ``escrow:inst:12``,
    ``parent_prepaid:purchase:5``. The app that posts says what each code means.
  * Append-only: a transaction and its entries are never updated or deleted. A correction
    is a new transaction with the negated entries (``reverse``), which points at the one it
    reverses (one reversal per transaction, under a UNIQUE constraint) and keeps its kind,
    so sums by kind stay true after corrections.
  * Idempotency: a transaction may carry a caller's key (UNIQUE). Posting the same key again
    returns the transaction already posted (``replayed`` is True on it) and changes nothing;
    the same key with other entries is refused (``IdempotencyConflict``).

Three layers keep the rows immutable: ``save``/``delete`` on the models refuse, the
manager's queryset refuses ``update``/``delete``, and the database itself refuses UPDATE and
DELETE through triggers (``append_only_sql``), so neither raw SQL nor another program can
rewrite history. TRUNCATE is left alone: row triggers do not see it, and test teardown and
the bureau's own archive procedures need it. The same SQL adds deferred constraint triggers
that refuse, at commit, a transaction without entries or whose entries do not sum to zero.
"""

import re
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
# DecimalField(max_digits=12, decimal_places=2)
MAX_AMOUNT = Decimal("9999999999.99")
ACCOUNT_RE = re.compile(r"^[a-z][a-z0-9_]*(:[a-z0-9_]+)*$")


class LedgerError(ValueError):
    """A posting that breaks the ledger's rules (a programming error, not user input)."""


class AppendOnlyError(LedgerError):
    """An attempt to change or delete a ledger row."""


class IdempotencyConflict(LedgerError):
    """The idempotency key is already used by a transaction with other entries."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: update refused")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: delete refused")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: update refused")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: update refused")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding or (
            self.pk is not None and type(self)._base_manager.filter(pk=self.pk).exists()
        ):
            raise AppendOnlyError(f"{type(self).__name__} is append-only: update refused")
        kwargs.pop("force_update", None)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} is append-only: delete refused")


class LedgerTransaction(AppendOnlyModel):
    """One posting: its entries sum to zero. Concrete models may add links (e.g. the
    purchase it belongs to) as further fields, given to ``post`` as ``fields``."""

    kind = models.CharField(_("业务类型"), max_length=40, db_index=True)
    idempotency_key = models.CharField(
        _("幂等键 / 业务参考号"), max_length=100, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(_("记账时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    memo = models.CharField(_("摘要"), max_length=300, blank=True)
    # A OneToOne: a transaction is reversed at most once, under the database's UNIQUE.
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正的记账"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )

    replayed = False  # set on the instance ``post`` returns for an already-used key

    class Meta:
        abstract = True

    def __str__(self):
        return f"#{self.pk} {self.kind}"

    @property
    def reference(self) -> str:
        """How a bank statement names this transaction: the caller's key, else ``LEDGER-<id>``
        (stable: neither ever changes)."""
        return self.idempotency_key or f"LEDGER-{self.pk}"


class LedgerEntry(AppendOnlyModel):
    """One line of a transaction. Concrete models add
    ``transaction = ForeignKey(<their transaction model>, PROTECT, related_name="entries")``."""

    account = models.CharField(_("科目"), max_length=100, db_index=True)
    amount = models.DecimalField(_("金额（元，借正贷负）"), max_digits=12, decimal_places=2)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.account} {self.amount:+}"


def _check_entries(entries) -> list[tuple[str, Decimal]]:
    checked = []
    for item in entries:
        try:
            account, amount = item
        except (TypeError, ValueError):
            raise LedgerError(f"an entry is (account, Decimal), not {item!r}") from None
        if not isinstance(account, str) or not ACCOUNT_RE.match(account) or len(account) > 100:
            raise LedgerError(f"bad account code {account!r}")
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise LedgerError(f"amount of {account} must be a finite Decimal, not {amount!r}")
        if amount != amount.quantize(CENT):
            raise LedgerError(f"amount {amount} of {account} has more than two decimal places")
        if amount == 0:
            raise LedgerError(f"zero amount on {account}")
        if abs(amount) > MAX_AMOUNT:
            raise LedgerError(f"amount {amount} of {account} is too large")
        checked.append((account, amount.quantize(CENT)))
    if len(checked) < 2:
        raise LedgerError("a transaction needs at least two entries")
    total = sum((a for _acc, a in checked), Decimal("0"))
    if total != 0:
        raise LedgerError(f"entries do not sum to zero (sum {total})")
    return checked


def _same_posting(tx, kind: str, entries: list[tuple[str, Decimal]]) -> bool:
    posted = sorted((e.account, e.amount) for e in tx.entries.all())
    return tx.kind == kind and posted == sorted(entries)


def post(
    *,
    tx_model,
    entry_model,
    kind: str,
    entries: Iterable[tuple[str, Decimal]],
    idempotency_key: str | None = None,
    actor=None,
    memo: str = "",
    reverses=None,
    fields: dict | None = None,
):
    """Write one balanced transaction and return it.

    ``entries``: (account, Decimal amount) pairs, at least two, none zero, two decimal
    places, summing to zero (checked here; the database checks again at commit).
    ``idempotency_key``: when a transaction with this key exists, it is returned with
    ``replayed = True`` and nothing is written; if its kind or entries differ,
    IdempotencyConflict. Two callers racing with one key: the UNIQUE constraint lets one
    insert, the other waits for its commit, meets the IntegrityError and returns the winner.
    """
    checked = _check_entries(entries)
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > 100:
        raise LedgerError("idempotency key longer than 100 characters")
    user = actor if getattr(actor, "is_authenticated", False) else None
    if key is not None:
        existing = tx_model.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _replayed(existing, kind, checked)
    try:
        with transaction.atomic():  # a savepoint when the caller has a transaction open
            tx = tx_model.objects.create(
                kind=kind,
                idempotency_key=key,
                actor=user,
                memo=memo[:300],
                reverses=reverses,
                **(fields or {}),
            )
            entry_model.objects.bulk_create(
                [entry_model(transaction=tx, account=a, amount=v) for a, v in checked]
            )
    except IntegrityError:
        if key is None:
            raise
        existing = tx_model.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _replayed(existing, kind, checked)
    return tx


def _replayed(tx, kind, checked):
    if not _same_posting(tx, kind, checked):
        raise IdempotencyConflict(
            f"idempotency key {tx.idempotency_key!r} already used by transaction #{tx.pk}"
        )
    tx.replayed = True
    return tx


def reverse(tx, *, entry_model, actor=None, memo: str = "", idempotency_key=None):
    """Post the negated entries of ``tx`` (same kind and links), pointing at it. A
    transaction already reversed returns its reversal (``replayed``)."""
    tx_model = type(tx)
    existing = tx_model.objects.filter(reverses=tx).first()
    if existing is not None:
        existing.replayed = True
        return existing
    entries = [(e.account, -e.amount) for e in tx.entries.all()]
    links = {
        f.name: getattr(tx, f.name)
        for f in tx_model._meta.concrete_fields
        if f.name not in {"id", "kind", "idempotency_key", "created_at", "actor", "memo"}
        and f.name != "reverses"
    }
    try:
        with transaction.atomic():
            return post(
                tx_model=tx_model,
                entry_model=entry_model,
                kind=tx.kind,
                entries=entries,
                idempotency_key=idempotency_key,
                actor=actor,
                memo=memo or f"冲正 #{tx.pk}",
                reverses=tx,
                fields=links,
            )
    except IntegrityError:
        # another reversal of the same transaction committed first (UNIQUE on reverses)
        existing = tx_model.objects.filter(reverses=tx).first()
        if existing is None:
            raise
        existing.replayed = True
        return existing


# --- balances ----------------------------------------------------------------------------


def balance(entry_model, account: str, **filters) -> Decimal:
    """The sum of the entries of one account (debit positive)."""
    total = entry_model.objects.filter(account=account, **filters).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


def balances(entry_model, accounts: Iterable[str] | None = None, *, prefix: str = "") -> dict:
    """{account: balance} for the given accounts (missing ones are 0), or for every account
    starting with ``prefix``; one query."""
    qs = entry_model.objects.all()
    if accounts is not None:
        accounts = list(accounts)
        qs = qs.filter(account__in=accounts)
    if prefix:
        qs = qs.filter(account__startswith=prefix)
    found = dict(qs.values("account").annotate(s=Sum("amount")).values_list("account", "s"))
    if accounts is None:
        return found
    return {a: found.get(a) or Decimal("0.00") for a in accounts}


def ledger_total(entry_model) -> Decimal:
    """The sum of every entry: zero in a sound ledger."""
    return entry_model.objects.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


def unbalanced_transactions(tx_model):
    """Transactions whose entries do not sum to zero, or that have none (never, unless the
    database triggers were bypassed): for the nightly check and the tests."""
    sums = tx_model.objects.annotate(total=Sum("entries__amount"), n=models.Count("entries"))
    return sums.filter(models.Q(n=0) | ~models.Q(total=0))


# --- database guards, for the migration of each concrete ledger ---------------------------

# Shared functions (CREATE OR REPLACE: each app's migration may create them; keep the body
# stable, a change here would alter earlier migrations' effect on a fresh database).
_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger AS $$
-- TG_ARGV: entries table, its transaction column, the column of NEW holding the id
DECLARE
    tx_id bigint := (to_jsonb(NEW) ->> TG_ARGV[2])::bigint;
    n bigint;
    total numeric;
BEGIN
    EXECUTE format('SELECT count(*), coalesce(sum(amount), 0) FROM %I WHERE %I = $1',
                   TG_ARGV[0], TG_ARGV[1])
        INTO n, total USING tx_id;
    IF n = 0 THEN
        RAISE EXCEPTION 'ledger transaction % has no entries', tx_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', tx_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


def append_only_sql(tx_table: str, entry_table: str, tx_column: str = "transaction_id"):
    """(sql, reverse_sql) for ``migrations.RunSQL``: refuse UPDATE and DELETE on both tables;
    at commit, refuse a transaction without entries or not summing to zero."""
    sql = [_FUNCTIONS]
    reverse_sql = []
    for table in (tx_table, entry_table):
        sql.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
        )
        reverse_sql.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    sql.append(
        f"CREATE CONSTRAINT TRIGGER {entry_table}_balanced AFTER INSERT ON {entry_table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
        f"ledger_check_balanced('{entry_table}', '{tx_column}', '{tx_column}');"
    )
    sql.append(
        f"CREATE CONSTRAINT TRIGGER {tx_table}_has_entries AFTER INSERT ON {tx_table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
        f"ledger_check_balanced('{entry_table}', '{tx_column}', 'id');"
    )
    reverse_sql.append(f"DROP TRIGGER IF EXISTS {entry_table}_balanced ON {entry_table};")
    reverse_sql.append(f"DROP TRIGGER IF EXISTS {tx_table}_has_entries ON {tx_table};")
    # The functions stay on reverse: another ledger's triggers may use them.
    return sql, reverse_sql
