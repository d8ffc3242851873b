"""The §7 catalog of document types: platform data, the same for every organization.

Written by migration 0002, and again after a ``migrate`` or ``flush`` that finds types
missing (DocumentsConfig.ready connects ``post_migrate``), so a database emptied by a
test's flush still has it while staff edits made in /admin/ are kept. Writing is
idempotent: each type is keyed by its code.
"""

# code, name, school-issued, validity, kept on profile, required by default, description
CATALOG = [
    (
        "letter_of_good_standing",
        "Letter of good standing",
        True,
        "none",
        False,
        True,
        "From your medical school, confirming you are a student in good standing.",
    ),
    (
        "usmle_score_report",
        "USMLE score report",
        False,
        "none",
        False,
        True,
        "Needed when you report a USMLE Step result on your profile.",
    ),
    (
        "tb_test_immunizations",
        "TB test and immunization report",
        False,
        "issued_within_year",
        False,
        True,
        "Issued within one year before the rotation starts.",
    ),
    (
        "liability_insurance",
        "Medical liability insurance",
        False,
        "valid_through_end",
        False,
        True,
        "Valid through the last day of the rotation.",
    ),
    ("background_check", "Criminal background check", False, "none", False, False, ""),
    ("drug_test", "9-panel drug test", False, "none", False, False, ""),
    (
        "passport_visa",
        "Passport with visa or immigration status",
        False,
        "valid_through_end",
        False,
        True,
        "The passport must be valid through the last day of the rotation.",
    ),
    ("state_id", "State or provincial ID", False, "valid_through_end", False, False, ""),
    ("cv", "CV", False, "none", True, False, "Kept on your profile."),
    # Certificates (§13): attendings ask for them per rotation type (rotations.requirements);
    # an approved one valid on the start day counts (documents.certificates).
    (
        "bls",
        "BLS certificate",
        False,
        "valid_through_end",
        False,
        False,
        "Basic Life Support provider card, valid through the last day of the rotation.",
    ),
    (
        "acls",
        "ACLS certificate",
        False,
        "valid_through_end",
        False,
        False,
        "Advanced Cardiovascular Life Support provider card, valid through the last day of "
        "the rotation.",
    ),
    (
        "hipaa",
        "HIPAA training certificate",
        False,
        "issued_within_year",
        False,
        False,
        "Patient privacy training completed within one year before the rotation starts.",
    ),
    (
        "osha",
        "OSHA training certificate",
        False,
        "issued_within_year",
        False,
        False,
        "Workplace safety (bloodborne pathogens) training completed within one year before "
        "the rotation starts.",
    ),
]
CERTIFICATE_CODES = ("bls", "acls", "hipaa", "osha")


def write_catalog(DocumentType) -> None:
    """Create or update every catalog type (``DocumentType`` may be a historical model)."""
    for position, (code, name, school, validity, profile, default, description) in enumerate(
        CATALOG, start=1
    ):
        DocumentType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "school_issued": school,
                "validity": validity,
                "kept_on_profile": profile,
                "required_by_default": default,
                "description": description,
                "position": position,
            },
        )


def write_catalog_after_migrate(sender, **kwargs) -> None:
    """Only the types missing (a flushed test database): staff edits in /admin/ stay."""
    from documents.models import DocumentType

    if DocumentType.objects.count() < len(CATALOG):
        write_catalog(DocumentType)
