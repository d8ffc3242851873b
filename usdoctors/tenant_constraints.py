"""Tenant consistency in the database (DESIGN §2, §11).

A foreign key names the parent's id alone, so nothing in the schema stops a rotation of
one organization from pointing at another organization's student. On PostgreSQL every
foreign key between tenant rows therefore also carries the organization:

    parent:  UNIQUE (id, organization_id)                       "<table>_tenant_key"
    child:   FOREIGN KEY (student_id, organization_id)
             REFERENCES accounts_membership (id, organization_id)
             DEFERRABLE INITIALLY DEFERRED                        "<table>_<column>_tenant_fk"

That is also the layout a PostgreSQL distributed by organization (Citus) needs: foreign
keys between distributed tables must include the distribution column.

Each app whose tenant models point at other tenant models ends its migrations with
``EnforceTenantForeignKeys()``; it adds whatever constraint its app's models lack, so
adding it again after a migration that adds a foreign key is how a new key gets covered.
``tests/test_tenant_foreign_keys.py`` fails for any tenant foreign key left uncovered.

Django keeps its own single-column foreign keys and still emulates ON DELETE, so the
composite key is NO ACTION and deferred like Django's. A nullable key is checked only
when set (MATCH SIMPLE), which is what ``SET_NULL`` needs. SQLite skips all of this.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import migrations
from django.db.backends.utils import names_digest, split_identifier

ORGANIZATION_MODEL = "usdoctors.organization"
ORGANIZATION_FIELD = "organization"


@dataclass(frozen=True)
class TenantForeignKey:
    """One foreign key from a tenant table to a tenant table, as database names."""

    table: str
    column: str
    organization_column: str
    parent_table: str
    parent_column: str
    parent_organization_column: str
    label: str  # "rotations.Rotation.student", for messages

    @property
    def name(self) -> str:
        return constraint_name(self.table, self.column, "tenant_fk")

    @property
    def parent_key_name(self) -> str:
        return constraint_name(self.parent_table, "", "tenant_key")

    @property
    def parent_key(self) -> tuple[str, str, str, str]:
        """The parent's unique (id, organization): table, name and its two columns."""
        return (
            self.parent_table,
            self.parent_key_name,
            self.parent_column,
            self.parent_organization_column,
        )


def constraint_name(table: str, column: str, suffix: str, max_length: int = 63) -> str:
    """``<table>_<column>_<suffix>``; shortened with a digest past PostgreSQL's 63 bytes."""
    _, table = split_identifier(table)
    name = "_".join(part for part in (table, column, suffix) if part)
    if len(name) <= max_length:
        return name
    digest = names_digest(table, column, suffix, length=8)
    keep = max_length - len(suffix) - len(digest) - 2
    return f"{name[:keep]}_{digest}_{suffix}"


def is_tenant_model(model) -> bool:
    """A model with a foreign key ``organization`` to the Organization: works for the
    app registry's models and for migration-state models (which lose abstract bases)."""
    try:
        field = model._meta.get_field(ORGANIZATION_FIELD)
    except FieldDoesNotExist:
        return False
    return (
        field.many_to_one
        and field.concrete
        and field.related_model is not None
        and field.related_model._meta.label_lower == ORGANIZATION_MODEL
    )


def tenant_foreign_keys(models) -> list[TenantForeignKey]:
    """Every concrete ForeignKey/OneToOneField from a tenant model to a tenant model."""
    found = []
    for model in models:
        if not is_tenant_model(model) or model._meta.proxy or not model._meta.managed:
            continue
        organization = model._meta.get_field(ORGANIZATION_FIELD)
        if organization not in model._meta.local_concrete_fields:
            continue  # a multi-table child: its organization lives in the parent's table
        for field in model._meta.local_concrete_fields:
            if not field.is_relation or field is organization or field.remote_field.parent_link:
                continue
            parent = field.related_model
            if not is_tenant_model(parent) or not field.db_constraint:
                continue
            found.append(
                TenantForeignKey(
                    table=model._meta.db_table,
                    column=field.column,
                    organization_column=organization.column,
                    parent_table=parent._meta.db_table,
                    parent_column=field.target_field.column,
                    parent_organization_column=parent._meta.get_field(ORGANIZATION_FIELD).column,
                    label=f"{model._meta.label}.{field.name}",
                )
            )
    return found


def _columns_key_exists(cursor, table: str, columns: tuple[str, ...]) -> bool:
    """Whether a unique, non-partial index on exactly ``columns`` exists on ``table``."""
    cursor.execute(
        """
        SELECT 1
          FROM pg_index i
         WHERE i.indrelid = %s::regclass
           AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
           AND i.indnkeyatts = %s
           AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
                  FROM pg_attribute a
                 WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey::int2[])) = %s
        """,
        [table, len(columns), sorted(columns)],
    )
    return cursor.fetchone() is not None


def _foreign_key_exists(cursor, key: TenantForeignKey) -> bool:
    """Whether ``key.table (column, organization)`` already references the parent's pair,
    whatever the constraint is called."""
    cursor.execute(
        """
        SELECT 1
          FROM pg_constraint c
         WHERE c.contype = 'f'
           AND c.conrelid = %s::regclass
           AND c.confrelid = %s::regclass
           AND (SELECT array_agg(a.attname::text ORDER BY k.n)
                  FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) = %s
           AND (SELECT array_agg(a.attname::text ORDER BY k.n)
                  FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) = %s
        """,
        [
            key.table,
            key.parent_table,
            [key.column, key.organization_column],
            [key.parent_column, key.parent_organization_column],
        ],
    )
    return cursor.fetchone() is not None


def _constraint_is_referenced(cursor, table: str, name: str) -> bool:
    """Whether any foreign key still depends on the unique constraint ``name``."""
    cursor.execute(
        """
        SELECT 1
          FROM pg_constraint fk
          JOIN pg_constraint uk ON uk.conindid = fk.conindid
         WHERE fk.contype = 'f' AND uk.conrelid = %s::regclass AND uk.conname = %s
        """,
        [table, name],
    )
    return cursor.fetchone() is not None


def _constraint_exists(cursor, table: str, name: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
        [table, name],
    )
    return cursor.fetchone() is not None


class EnforceTenantForeignKeys(migrations.operations.base.Operation):
    """Give every tenant→tenant foreign key of this migration's app a composite
    (column, organization) key on PostgreSQL; drop them again when reversed.

    Idempotent: a parent that already has a unique (id, organization) is left alone, and
    so is a child key that already exists. Adding existing data that disagrees with its
    parent's organization fails the migration, naming the constraint. What exists is
    read from the live database, so ``sqlmigrate`` prints only what it still lacks.
    """

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        pass  # the database gains constraints; the models do not change

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        keys = self._keys(app_label, to_state)
        parents = sorted({key.parent_key for key in keys})
        with schema_editor.connection.cursor() as cursor:
            # Parents' keys first, once each, so the foreign keys below have a target.
            for table, name, column, organization_column in parents:
                if not _columns_key_exists(cursor, table, (column, organization_column)):
                    schema_editor.execute(
                        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} "
                        f"UNIQUE ({quote(column)}, {quote(organization_column)})"
                    )
            for key in keys:
                if not _foreign_key_exists(cursor, key):
                    schema_editor.execute(
                        f"ALTER TABLE {quote(key.table)} ADD CONSTRAINT {quote(key.name)} "
                        f"FOREIGN KEY ({quote(key.column)}, {quote(key.organization_column)}) "
                        f"REFERENCES {quote(key.parent_table)} "
                        f"({quote(key.parent_column)}, {quote(key.parent_organization_column)}) "
                        "DEFERRABLE INITIALLY DEFERRED"
                    )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        keys = self._keys(app_label, from_state)
        for key in keys:
            schema_editor.execute(
                f"ALTER TABLE {quote(key.table)} DROP CONSTRAINT IF EXISTS {quote(key.name)}"
            )
        # A parent's key may still serve another app's foreign keys: keep it then.
        with schema_editor.connection.cursor() as cursor:
            for table, name in sorted({(key.parent_table, key.parent_key_name) for key in keys}):
                if _constraint_exists(cursor, table, name) and not _constraint_is_referenced(
                    cursor, table, name
                ):
                    schema_editor.execute(
                        f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}"
                    )

    @staticmethod
    def _keys(app_label, state) -> list[TenantForeignKey]:
        models = [model for model in state.apps.get_models() if model._meta.app_label == app_label]
        return tenant_foreign_keys(models)

    def describe(self):
        return "Include the organization in every foreign key between tenant rows (PostgreSQL)"

    @property
    def migration_name_fragment(self):
        return "tenant_foreign_keys"
