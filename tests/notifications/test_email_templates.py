"""Every email type (DESIGN §9) is registered with the context its templates read
(notifications/email_types.py), and its subject, text and HTML parts render with exactly
that context. A template reading a variable the registry does not list fails here, so
does a registered key no template reads, and ``notify()`` refuses an unregistered type
or a context missing a listed key."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.template import Context, engines
from django.template.loader import get_template
from django_scopes import scope, scopes_disabled

from notifications.email_types import (
    ADDED_AT_DELIVERY,
    EMAIL_TYPES,
    MissingEmailContext,
    UnknownEmailType,
)
from notifications.models import OutboundEmail
from notifications.services import notify, notify_admins, render

EMAILS = Path(django_settings.BASE_DIR) / "templates" / "emails"
PARTS = ("subject.txt", "txt", "html")
LAYOUT = "base.html"  # what every HTML part extends; not an email of its own

# What the callers put in a context (JSON: strings, numbers, lists), for the keys that are
# not simply a string.
SAMPLE_VALUES = {
    "missing": ["Payment of the first installment", "Signed rotation agreement"],
    "weeks": 4,
    "day": 3,
    "hours_pending": 30,
    "target_hours": 24,
    "ticket_id": 7,
    "changes": [{"field": "Phone", "old": "—", "new": "+977 98 1234 5678"}],
    "housing_partners": [
        {"name": "Campus Suites", "url": "https://suites.example.test/", "notes": "10% off"}
    ],
    "html": "",  # allauth ships no HTML account email: the text part is shown instead
    "organization_name": "Demo Rotations",
    "site_url": "http://demo.localhost/",
}


def sample_context(keys) -> dict:
    return {key: SAMPLE_VALUES.get(key, f"<{key}>") for key in keys}


class UndefinedVariable(AssertionError):
    pass


class LoudUndefined(str):
    """``string_if_invalid`` that fails the render: Django formats it with the name of
    the variable it could not resolve (it contains "%s"), and formatting raises."""

    def __mod__(self, variable):
        raise UndefinedVariable(f"The template reads {variable!r}, which is not in its context.")


class RecordingContext(Context):
    """Notes every name a template looks up. ``{% if %}`` and ``{% for %}`` swallow a
    missing variable (never reaching ``string_if_invalid``): this catches those too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()
        self.missing: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        try:
            return super().__getitem__(key)
        except KeyError:
            self.missing.add(key)
            raise


@pytest.fixture
def loud_templates(settings):
    """Templates fail on a missing variable for the test's duration. Changing TEMPLATES
    makes Django drop its template engines (and their cached templates), so they are
    built again with this option, and again without it afterwards."""
    [backend] = settings.TEMPLATES
    settings.TEMPLATES = [
        {**backend, "OPTIONS": {**backend["OPTIONS"], "string_if_invalid": LoudUndefined("%s")}}
    ]
    assert isinstance(engines["django"].engine.string_if_invalid, LoudUndefined)


def render_strictly(template, context: dict) -> tuple[str, set[str]]:
    """Render a django.template.backends.django.Template with ``context`` alone; fail on
    any name it reads that the context lacks. Returns the output and the names read."""
    recording = RecordingContext(context, autoescape=template.backend.engine.autoescape)
    output = template.template.render(recording)
    if recording.missing:
        raise UndefinedVariable(f"The template reads {sorted(recording.missing)}, not given.")
    return output, recording.read


def files_in_emails_folder() -> set[str]:
    return {path.name for path in EMAILS.iterdir() if path.is_file()}


# --- The registry and the templates folder agree ----------------------------------------


def test_every_template_in_the_emails_folder_is_a_registered_email_type():
    names = {name.split(".", 1)[0] for name in files_in_emails_folder() if name != LAYOUT}
    assert names == set(EMAIL_TYPES)
    # Including allauth's messages: accounts.adapter.send_mail queues them all as
    # "allauth_message" with their already rendered subject, text and HTML.
    assert "allauth_message" in EMAIL_TYPES


def test_every_registered_email_type_has_exactly_its_three_parts():
    expected = {f"{name}.{part}" for name in EMAIL_TYPES for part in PARTS}
    assert files_in_emails_folder() - {LAYOUT} == expected


def test_no_caller_provides_what_is_added_at_delivery():
    for name, keys in EMAIL_TYPES.items():
        assert not keys & ADDED_AT_DELIVERY, name


# --- Each type renders with exactly the context it declares -----------------------------


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("name", sorted(EMAIL_TYPES))
def test_each_part_renders_with_the_declared_context_alone(name, part, loud_templates):
    template = get_template(f"emails/{name}.{part}")
    output, _read = render_strictly(template, sample_context(EMAIL_TYPES[name] | ADDED_AT_DELIVERY))
    assert output.strip()


@pytest.mark.parametrize("name", sorted(EMAIL_TYPES))
def test_every_declared_key_is_read_by_one_of_the_parts(name, loud_templates):
    """The registry asks callers only for what the email shows."""
    read = set()
    for part in PARTS:
        template = get_template(f"emails/{name}.{part}")
        read |= render_strictly(template, sample_context(EMAIL_TYPES[name] | ADDED_AT_DELIVERY))[1]
    assert EMAIL_TYPES[name] - read == set()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EMAIL_TYPES))
def test_each_type_is_sent_as_the_outbox_renders_it(name, org, loud_templates):
    """The path delivery takes (``services.render``, which adds the organization's name
    and site) with the declared context: every part there, no variable missing."""
    email = OutboundEmail(
        organization=org,
        recipient="asha@example.test",
        template=name,
        context=sample_context(EMAIL_TYPES[name]),
    )
    message = render(email)
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert message.subject.strip() and message.body.strip() and html.strip()
    assert "Demo Rotations" in html


# --- The checks above can fail ----------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "Hello {{ student_name }}, {{ not_declared }}",
        "Hello {{ student_name|lower }} {{ not_declared|default_if_none:'' }}",
        "{% if not_declared %}shown{% endif %}{{ student_name }}",
        "{% for item in not_declared %}{{ item }}{% endfor %}{{ student_name }}",
    ],
)
def test_a_template_reading_an_undeclared_variable_fails(source, loud_templates):
    template = engines["django"].from_string(source)
    with pytest.raises(UndefinedVariable, match="not_declared"):
        render_strictly(template, {"student_name": "Asha"})


def test_a_declared_key_no_part_reads_is_reported(loud_templates):
    template = engines["django"].from_string("Hello {{ student_name }}")
    _output, read = render_strictly(template, {"student_name": "Asha", "unused": "x"})
    assert {"student_name", "unused"} - read == {"unused"}


# --- notify() takes only registered types with their context ----------------------------


@pytest.mark.django_db
def test_notify_refuses_an_unregistered_email_type(org):
    with scope(organization=org), pytest.raises(UnknownEmailType, match="no_such_email"):
        notify(org, "asha@example.test", "no_such_email", {"student_name": "Asha"})
    with scopes_disabled():
        assert not OutboundEmail.objects.exists()


@pytest.mark.django_db
def test_notify_refuses_a_context_missing_a_declared_key(org):
    with scope(organization=org), pytest.raises(MissingEmailContext, match="profile_url"):
        notify(org, "asha@example.test", "profile_submitted", {"student_name": "Asha"})
    with scope(organization=org), pytest.raises(MissingEmailContext, match="student_name"):
        notify(org, "asha@example.test", "profile_verified", None)
    with scopes_disabled():
        assert not OutboundEmail.objects.exists()


@pytest.mark.django_db
def test_notify_admins_refuses_even_without_any_admin_to_write_to(org):
    with scope(organization=org):
        with pytest.raises(UnknownEmailType):
            notify_admins(org, "no_such_email", {}, dedupe_key="k")
        with pytest.raises(MissingEmailContext, match="ticket_url"):
            notify_admins(
                org,
                "ticket_opened",
                {"ticket_id": 1, "subject": "s", "category": "c"},
                dedupe_key="k",
            )


@pytest.mark.django_db
def test_notify_accepts_more_than_the_declared_keys(org):
    """Callers share context builders (``rotation_context``): extra keys are fine."""
    context = {**sample_context(EMAIL_TYPES["profile_verified"]), "rotation_id": 3}
    with scope(organization=org):
        email = notify(org, "asha@example.test", "profile_verified", context)
    assert email.context == context
