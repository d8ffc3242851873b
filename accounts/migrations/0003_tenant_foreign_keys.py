# Composite (column, organization) foreign keys between tenant rows on PostgreSQL
# (usdoctors.tenant_constraints, DESIGN §2 and §11). No model state changes.

from django.db import migrations

from usdoctors.tenant_constraints import EnforceTenantForeignKeys


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_text_limits'),
    ]

    operations = [
        EnforceTenantForeignKeys(),
    ]
