"""Tenant consistency in the database (DESIGN §2, §11): on PostgreSQL every foreign key
between tenant rows includes the organization, so a row can never point at another
organization's row, whatever the code does (usdoctors.tenant_constraints).

The composite keys are deferred like Django's own, so these tests ask PostgreSQL to
check now with ``SET CONSTRAINTS ALL IMMEDIATE`` inside the test's transaction.
"""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Membership, ProfileReview
from rotations.models import Message, Rotation, RotationEvent
from tests import factories
from usdoctors.tenancy import TenantModel
from usdoctors.tenant_constraints import EnforceTenantForeignKeys

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL constraints"),
]


def check_now():
    """Run the deferred constraint checks at this point rather than at commit."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def refused(write) -> str:
    """Run ``write`` in a savepoint, check constraints, and return the name of the
    constraint PostgreSQL refused it with (the test fails if it was accepted)."""
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        write()
        check_now()
    return refusal.value.__cause__.diag.constraint_name


@pytest.fixture
def demo_rotation(demo):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        return factories.RotationFactory(attending=attending, student=demo["student"])


# --- Mismatched rows are refused -------------------------------------------------------


def test_rotation_with_another_organizations_student_is_refused(demo, northside):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        constraint = refused(
            lambda: factories.RotationFactory(attending=attending, student=northside["student"])
        )
        assert constraint == "rotations_rotation_student_id_tenant_fk"
        assert not Rotation.objects.exists()


def test_rotation_with_another_organizations_attending_is_refused(demo, northside):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=northside["org"], membership=northside["attending"]
        )
        constraint = refused(
            lambda: Rotation.objects.create(
                organization=demo["org"],
                student=demo["student"],
                attending=attending,
                rotation_type="clerkship",
                mode="in_person",
                start=factories.next_monday(2),
                weeks=2,
                weekly_rate=attending.weekly_rate,
                respond_by=timezone.now(),
            )
        )
        assert constraint == "rotations_rotation_attending_id_tenant_fk"


def test_message_in_another_organizations_rotation_is_refused(demo_rotation, northside):
    with scopes_disabled():
        constraint = refused(
            lambda: Message.objects.create(
                organization=northside["org"],
                rotation=demo_rotation,
                author=northside["student"],
                body="Hello from another organization",
            )
        )
        assert constraint == "rotations_message_rotation_id_tenant_fk"
        assert not Message.objects.exists()


def test_message_by_another_organizations_member_is_refused(demo_rotation, northside):
    with scopes_disabled():
        constraint = refused(
            lambda: Message.objects.create(
                organization=demo_rotation.organization,
                rotation=demo_rotation,
                author=northside["student"],
                body="Hello from another organization",
            )
        )
        assert constraint == "rotations_message_author_id_tenant_fk"


def test_optional_key_is_checked_when_set(demo, northside):
    """``ProfileReview.by`` may be empty (MATCH SIMPLE), but never another tenant's."""
    with scopes_disabled():
        constraint = refused(
            lambda: ProfileReview.objects.create(
                organization=demo["org"],
                membership=demo["pending"],
                action="verified",
                by=northside["admin"],
            )
        )
        assert constraint == "accounts_profilereview_by_id_tenant_fk"

        ProfileReview.objects.create(
            organization=demo["org"], membership=demo["pending"], action="submitted", by=None
        )
        check_now()


def test_moving_a_row_to_another_organization_is_refused(demo_rotation, other_org):
    """Rows keep their organization: moving one breaks its own keys and its children's."""
    with scopes_disabled():
        Message.objects.create(
            organization=demo_rotation.organization,
            rotation=demo_rotation,
            author=demo_rotation.student,
            body="Hello",
        )
        constraint = refused(
            lambda: Rotation.objects.filter(pk=demo_rotation.pk).update(organization=other_org)
        )
        assert constraint.startswith("rotations_")
        assert constraint.endswith("_tenant_fk")
        assert Rotation.objects.get(pk=demo_rotation.pk).organization == demo_rotation.organization


# --- Matching rows are accepted, and Django's ON DELETE still works ---------------------


def test_matching_rows_are_accepted(demo_rotation, northside):
    with scopes_disabled():
        Message.objects.create(
            organization=demo_rotation.organization,
            rotation=demo_rotation,
            author=demo_rotation.student,
            body="Looking forward to it",
        )
        RotationEvent.objects.create(
            organization=demo_rotation.organization, rotation=demo_rotation, status="requested"
        )
        factories.RotationFactory(organization=northside["org"], student=northside["student"])
        check_now()
        assert Message.objects.filter(rotation=demo_rotation).count() == 1
        assert Rotation.objects.count() == 2


def test_deleting_a_member_still_cascades_and_sets_null(demo, demo_rotation):
    """The composite keys are NO ACTION: Django's emulated CASCADE and SET_NULL decide."""
    with scopes_disabled():
        event = RotationEvent.objects.create(
            organization=demo["org"], rotation=demo_rotation, status="approved", by=demo["admin"]
        )
        check_now()  # from here on each statement is checked as it runs
        Membership.objects.get(pk=demo["admin"].pk).delete()
        event.refresh_from_db()
        assert event.by is None
        Membership.objects.get(pk=demo_rotation.student_id).delete()
        assert not Rotation.objects.filter(pk=demo_rotation.pk).exists()
        assert not RotationEvent.objects.filter(pk=event.pk).exists()


# --- Every tenant foreign key is covered ----------------------------------------------


def tenant_relations():
    """(model, field) for every relation from a TenantModel to a TenantModel, read from
    the app registry, independently of how the migration operation finds them."""
    found = []
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        for field in model._meta.get_fields():
            if not field.is_relation or field.auto_created or field.name == "organization":
                continue
            if field.related_model is not None and issubclass(field.related_model, TenantModel):
                found.append((model, field))
    return found


def composite_foreign_keys() -> set[tuple[str, tuple[str, ...], str, tuple[str, ...]]]:
    """(table, columns, referenced table, referenced columns) of every deferred
    multi-column foreign key in the live schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text,
                   (SELECT array_agg(a.attname::text ORDER BY k.n)
                      FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
                   c.confrelid::regclass::text,
                   (SELECT array_agg(a.attname::text ORDER BY k.n)
                      FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)
              FROM pg_constraint c
             WHERE c.contype = 'f' AND cardinality(c.conkey) > 1
               AND c.condeferrable AND c.condeferred
            """
        )
        return {(table, tuple(cols), ref, tuple(ref_cols)) for table, cols, ref, ref_cols in cursor}


def uncovered_tenant_foreign_keys() -> list[str]:
    """Tenant relations without a deferred (column, organization) foreign key."""
    keys = composite_foreign_keys()
    missing = []
    for model, field in tenant_relations():
        label = f"{model._meta.label}.{field.name}"
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                missing.append(f"{label} (give it a TenantModel `through` model)")
            continue  # a TenantModel through model is checked as its own model
        if not field.concrete:
            missing.append(f"{label} ({type(field).__name__} is not a database key)")
            continue
        parent = field.related_model
        wanted = (
            model._meta.db_table,
            (field.column, model._meta.get_field("organization").column),
            parent._meta.db_table,
            (field.target_field.column, parent._meta.get_field("organization").column),
        )
        if wanted not in keys:
            missing.append(label)
    return missing


def test_every_tenant_foreign_key_includes_the_organization():
    """A new tenant model whose migrations lack ``EnforceTenantForeignKeys()`` fails here."""
    labels = {f"{model._meta.label}.{field.name}" for model, field in tenant_relations()}
    assert {"rotations.Rotation.student", "rotations.Message.rotation"} <= labels
    assert {"accounts.StudentProfile.membership", "rotations.DateChange.decided_by"} <= labels
    assert uncovered_tenant_foreign_keys() == []


def test_the_guard_notices_a_missing_key():
    """Drop one composite key inside the test's transaction (DDL rolls back with it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE rotations_message DROP CONSTRAINT rotations_message_rotation_id_tenant_fk"
        )
    assert uncovered_tenant_foreign_keys() == ["rotations.Message.rotation"]


def test_the_operation_is_reversible_and_idempotent():
    """Backwards drops an app's keys and the parents' keys nobody else needs; forwards
    twice puts back exactly what there was."""
    before = composite_foreign_keys()
    state = MigrationExecutor(connection).loader.project_state()
    operation = EnforceTenantForeignKeys()
    with connection.schema_editor() as editor:
        operation.database_backwards("rotations", editor, state, state)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE conname LIKE '%%tenant_key' ORDER BY 1"
        )
        parent_keys = cursor.fetchall()
    # accounts' own foreign keys still need the membership key, payments' invoices and
    # credit entries the rotation key, and lor's letters the rotation and attending-profile
    # keys; rotations' other keys are gone.
    assert ("accounts_membership", "accounts_membership_tenant_key") in parent_keys
    assert [key for key in parent_keys if key[0].startswith("rotations_")] == [
        ("rotations_attendingprofile", "rotations_attendingprofile_tenant_key"),
        ("rotations_rotation", "rotations_rotation_tenant_key"),
    ]
    assert not [key for key in composite_foreign_keys() if key[0].startswith("rotations_")]
    assert set(uncovered_tenant_foreign_keys()) >= {
        "rotations.Rotation.student",
        "rotations.Message.rotation",
    }

    with connection.schema_editor() as editor:
        operation.database_forwards("rotations", editor, state, state)
        operation.database_forwards("rotations", editor, state, state)
    assert composite_foreign_keys() == before
    assert uncovered_tenant_foreign_keys() == []
