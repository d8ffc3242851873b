# Housing partners become rows (issue 11, part 9): the organization's JSON list moves into
# HousingPartner, then the JSON field goes.

import django.core.validators
import django.db.models.deletion
import usdoctors.text
from django.db import migrations, models


URL_KEYS = ("url", "link", "website", "href")
NAME_KEYS = ("name", "title", "label")
NOTES_KEYS = ("notes", "note", "description", "details")


def _first(entry: dict, keys) -> str:
    for key in keys:
        value = entry.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _partner(entry):
    """(name, url, notes) of one JSON entry: an object with a name, link and notes under
    the usual keys, or a bare string (a name, or a link)."""
    if isinstance(entry, str):
        text = entry.strip()
        if text.startswith(("http://", "https://")):
            return text[:150], text[:500], ""
        return text[:150], "", ""
    if isinstance(entry, dict):
        url = _first(entry, URL_KEYS)
        name = _first(entry, NAME_KEYS) or url
        return name[:150], url[:500], _first(entry, NOTES_KEYS)[:4000]
    return "", "", ""


def move_housing_partners(apps, schema_editor):
    """Each organization's JSON list becomes HousingPartner rows, in the list's order."""
    Organization = apps.get_model("usdoctors", "Organization")
    HousingPartner = apps.get_model("usdoctors", "HousingPartner")
    rows = []
    for organization in Organization.objects.exclude(housing_partners=[]).iterator():
        entries = organization.housing_partners
        if not isinstance(entries, list):
            entries = [entries]
        for order, entry in enumerate(entries):
            name, url, notes = _partner(entry)
            if name:
                rows.append(
                    HousingPartner(
                        organization_id=organization.pk,
                        name=name,
                        url=url,
                        notes=notes,
                        order=order,
                    )
                )
    HousingPartner.objects.bulk_create(rows, batch_size=1000)


def move_back(apps, schema_editor):
    Organization = apps.get_model("usdoctors", "Organization")
    HousingPartner = apps.get_model("usdoctors", "HousingPartner")
    lists: dict[int, list] = {}
    for partner in HousingPartner.objects.order_by("organization_id", "order", "pk"):
        lists.setdefault(partner.organization_id, []).append(
            {"name": partner.name, "url": partner.url, "notes": partner.notes}
        )
    for organization_id, partners in lists.items():
        Organization.objects.filter(pk=organization_id).update(housing_partners=partners)


class Migration(migrations.Migration):
    dependencies = [
        ("usdoctors", "0004_remove_organization_required_document_types"),
    ]

    operations = [
        migrations.AlterField(
            model_name="organization",
            name="slug",
            field=models.SlugField(
                help_text="The organization's site address: slug.site-domain, e.g. demo.usdoctors.com for the slug demo. Lowercase letters, digits and dashes.",
                max_length=40,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9-]+$", "Lowercase letters, digits and dashes."
                    )
                ],
            ),
        ),
        migrations.CreateModel(
            name="HousingPartner",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        max_length=150, validators=[usdoctors.text.validate_no_bidi_controls]
                    ),
                ),
                ("url", models.URLField(blank=True, max_length=500, verbose_name="link")),
                (
                    "notes",
                    models.TextField(
                        blank=True,
                        help_text="What students should know: distance, discount code, how to book.",
                        max_length=4000,
                    ),
                ),
                (
                    "order",
                    models.PositiveSmallIntegerField(
                        default=0, help_text="Lower numbers come first."
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="usdoctors.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["order", "pk"],
                "indexes": [
                    models.Index(
                        fields=["organization", "order"], name="usdoctors_h_organiz_ad6fc4_idx"
                    )
                ],
            },
        ),
        migrations.RunPython(move_housing_partners, move_back, elidable=False),
        migrations.RemoveField(
            model_name="organization",
            name="housing_partners",
        ),
    ]
