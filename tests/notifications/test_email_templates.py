"""Every email the code queues has its subject, text and HTML parts (DESIGN §9), and
each part renders."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template

ROOT = Path(settings.BASE_DIR)
APPS = ["accounts", "notifications", "rotations", "payments", "documents", "lor"]
# notify(org, to, "template", ...), notify_admins(org, "template", ...), _close(..., template="x")
QUEUED = re.compile(
    r"""notify\(\s*[^,]+,\s*[^,]+,\s*"(\w+)"|notify_admins\(\s*[^,]+,\s*"(\w+)"|template="(\w+)\""""
)


def queued_templates() -> set[str]:
    names = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py") if (ROOT / app).exists() else []:
            for match in QUEUED.finditer(path.read_text()):
                names.update(name for name in match.groups() if name)
    return names


def test_the_code_queues_emails():
    assert {"profile_verified", "rotation_approved", "rotation_expired"} <= queued_templates()


@pytest.mark.parametrize("template", sorted(queued_templates()))
@pytest.mark.parametrize("part", ["subject.txt", "txt", "html"])
def test_every_queued_email_has_all_parts(template, part):
    rendered = get_template(f"emails/{template}.{part}").render(
        {
            "organization_name": "Demo",
            "site_url": "http://demo.localhost/",
            "missing": ["x"],
            "subject": "Confirm",
            "text": "Follow the link",
        }
    )
    assert rendered.strip()
