"""The §7 catalog of document types, and each organization's required set carried over
from the old JSON setting (Organization.required_document_types, removed next)."""

from django.db import migrations

from documents.catalog import write_catalog as write


def write_catalog(apps, schema_editor):
    write(apps.get_model("documents", "DocumentType"))


def carry_over_required_sets(apps, schema_editor):
    Organization = apps.get_model("usdoctors", "Organization")
    DocumentType = apps.get_model("documents", "DocumentType")
    Required = apps.get_model("documents", "RequiredDocumentType")
    types = {t.code: t for t in DocumentType.objects.all()}
    for organization in Organization.objects.all():
        codes = organization.required_document_types or []
        # "usmle_score_report" only counts for students who report a Step: keep it in
        # every set, as new organizations get it.
        codes = [*codes, "usmle_score_report"]
        for code in dict.fromkeys(codes):
            if code in types:
                Required.objects.get_or_create(
                    organization=organization, attending=None, document_type=types[code]
                )


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [
        migrations.RunPython(write_catalog, migrations.RunPython.noop),
        migrations.RunPython(carry_over_required_sets, migrations.RunPython.noop),
    ]
