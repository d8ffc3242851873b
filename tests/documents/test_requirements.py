"""Which document types a rotation needs (DESIGN §7): each organization's required set
(a new one starts with the catalog's defaults), plus the types an attending adds."""

import pytest
from django_scopes import scope, scopes_disabled

from documents.models import DocumentType, RequiredDocumentType
from documents.requirements import (
    attending_type_ids,
    organization_type_ids,
    required_types,
    set_attending_types,
    set_organization_types,
)
from rotations.models import Rotation
from tests import factories

pytestmark = pytest.mark.django_db

DEFAULTS = {"letter_of_good_standing", "usmle_score_report", "tb_test_immunizations"} | {
    "liability_insurance",
    "passport_visa",
}


def type_ids(*codes) -> list[int]:
    return list(DocumentType.objects.filter(code__in=codes).values_list("pk", flat=True))


def codes(ids) -> set[str]:
    return set(DocumentType.objects.filter(pk__in=ids).values_list("code", flat=True))


def rows_of(organization) -> list[tuple]:
    with scopes_disabled():
        return sorted(
            RequiredDocumentType.objects.filter(organization=organization).values_list(
                "document_type__code", "attending_id"
            )
        )


def test_a_new_organization_requires_the_catalogs_defaults(db):
    with scopes_disabled():
        organization = factories.OrganizationFactory(slug="fresh")
    with scope(organization=organization):
        assert codes(organization_type_ids(organization)) == DEFAULTS
    assert DEFAULTS == set(
        DocumentType.objects.filter(required_by_default=True).values_list("code", flat=True)
    )
    # Saving it again adds nothing.
    with scopes_disabled():
        organization.name = "Renamed"
        organization.save()
    assert len(rows_of(organization)) == len(DEFAULTS)


def test_setting_the_organizations_types_replaces_its_set(demo, northside):
    northside_before = rows_of(northside["org"])
    with scope(organization=demo["org"]):
        set_organization_types(demo["org"], type_ids("cv", "drug_test", "tb_test_immunizations"))
        assert codes(organization_type_ids(demo["org"])) == {
            "cv",
            "drug_test",
            "tb_test_immunizations",
        }
        set_organization_types(demo["org"], type_ids("background_check"))
        assert codes(organization_type_ids(demo["org"])) == {"background_check"}
    assert rows_of(demo["org"]) == [("background_check", None)]
    assert rows_of(northside["org"]) == northside_before  # the other tenant is untouched


def test_an_attendings_types_leave_out_what_the_organization_already_requires(demo, northside):
    attending = demo["attending"]
    with scope(organization=demo["org"]):
        set_attending_types(attending, type_ids("tb_test_immunizations", "drug_test", "cv"))
        assert codes(attending_type_ids(attending)) == {"drug_test", "cv"}
        set_attending_types(attending, type_ids("background_check"))
        assert codes(attending_type_ids(attending)) == {"background_check"}
        assert codes(organization_type_ids(demo["org"])) == DEFAULTS  # unchanged


def test_another_organizations_rows_never_mix_in(demo, northside):
    with scopes_disabled():
        mine = factories.RotationFactory(organization=demo["org"], status="approved")
        theirs = factories.RotationFactory(organization=northside["org"], status="approved")
    with scope(organization=northside["org"]):
        set_organization_types(northside["org"], type_ids("drug_test", "state_id"))
        set_attending_types(theirs.attending.membership, type_ids("background_check"))
    with scope(organization=demo["org"]):
        rotation = Rotation.objects.select_related("student__profile", "attending").get(pk=mine.pk)
        needed = {t.code for t in required_types([rotation])[rotation.pk]}
    assert needed == DEFAULTS - {"usmle_score_report"}  # the student reports no Step
    with scope(organization=northside["org"]):
        rotation = Rotation.objects.select_related("student__profile", "attending").get(
            pk=theirs.pk
        )
        needed = [t.code for t in required_types([rotation])[rotation.pk]]
    assert needed == ["background_check", "drug_test", "state_id"]  # catalog order
