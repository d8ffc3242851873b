"""The certificates of §13 join the catalog: BLS, ACLS, HIPAA and OSHA training. Staff
edits to the other types are kept; these four are written by code."""

from django.db import migrations

CERTIFICATES = [
    (
        "bls",
        "BLS certificate",
        "valid_through_end",
        "Basic Life Support provider card, valid through the last day of the rotation.",
    ),
    (
        "acls",
        "ACLS certificate",
        "valid_through_end",
        "Advanced Cardiovascular Life Support provider card, valid through the last day of "
        "the rotation.",
    ),
    (
        "hipaa",
        "HIPAA training certificate",
        "issued_within_year",
        "Patient privacy training completed within one year before the rotation starts.",
    ),
    (
        "osha",
        "OSHA training certificate",
        "issued_within_year",
        "Workplace safety (bloodborne pathogens) training completed within one year before "
        "the rotation starts.",
    ),
]


def add_certificates(apps, schema_editor):
    DocumentType = apps.get_model("documents", "DocumentType")
    last = max(DocumentType.objects.values_list("position", flat=True), default=0)
    for offset, (code, name, validity, description) in enumerate(CERTIFICATES, start=1):
        DocumentType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "validity": validity,
                "description": description,
                "school_issued": False,
                "kept_on_profile": False,
                "required_by_default": False,
                "position": last + offset,
            },
        )


def remove_certificates(apps, schema_editor):
    DocumentType = apps.get_model("documents", "DocumentType")
    DocumentType.objects.filter(code__in=[code for code, *_ in CERTIFICATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_visa_refusal")]

    operations = [migrations.RunPython(add_certificates, remove_certificates)]
