"""Tenant isolation (DESIGN §2): the organization comes from the request host; another
organization's object id answers 404, never 403 and never data; a query outside a
tenant scope raises; Django's /admin/ is the platform staff's console only."""

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.test import Client
from django_scopes import ScopeError, scope, scopes_disabled

from accounts.models import Membership, ProfileReview, SupportTicket, TicketReply, User
from notifications.models import OutboundEmail
from tests import factories
from usdoctors.models import OrganizationDomain
from usdoctors.tenancy import TenantModel

pytestmark = pytest.mark.django_db

NO_SUCH_ID = 987_654_321
NOT_A_MEMBER = {"detail": "You are not a member of this organization.", "code": "not_found"}
NOT_A_MEMBER_PAGE = "You are not a member of Demo Rotations"

# Every page and API call in accounts/urls.py and accounts/api/urls.py that takes an
# object id: (method, path, body, who may call it at all in their own organization).
OBJECT_CALLS = [
    ("get", "/api/v1/admin/profiles/{profile}", None, "admin"),
    ("post", "/api/v1/admin/profiles/{profile}/verify", {}, "admin"),
    ("post", "/api/v1/admin/profiles/{profile}/request-info", {"message": "Add Step 1."}, "admin"),
    ("post", "/api/v1/admin/profiles/{profile}/reject", {"reason": "Not a school."}, "admin"),
    ("get", "/api/v1/students/{profile}", None, "member"),
    ("get", "/api/v1/tickets/{ticket}", None, "member"),
    ("post", "/api/v1/tickets/{ticket}/replies", {"message": "Hello from elsewhere"}, "member"),
    ("post", "/api/v1/tickets/{ticket}/approve", {}, "admin"),
    ("get", "/students/{profile}/", None, "member"),
    ("get", "/students/{profile}/cv/", None, "member"),
    ("get", "/manage/verification/{profile}/", None, "admin"),
    ("post", "/manage/verification/{profile}/verify/", {}, "admin"),
    ("post", "/manage/verification/{profile}/request-info/", {"info-message": "Step 1?"}, "admin"),
    ("post", "/manage/verification/{profile}/reject/", {"reject-message": "No."}, "admin"),
    ("get", "/support/{ticket}/", None, "member"),
    ("post", "/support/{ticket}/", {"message": "Hello from elsewhere"}, "member"),
    ("post", "/support/{ticket}/approve/", {}, "admin"),
]
CALL_IDS = [f"{method.upper()} {path}" for method, path, _body, _who in OBJECT_CALLS]

# Calls without an id that still need a membership in the host's organization.
MEMBER_CALLS = [
    ("get", "/dashboard/", None),
    ("get", "/profile/", None),
    ("get", "/manage/verification/", None),
    ("get", "/support/", None),
    ("post", "/support/new/", {"category": "general", "subject": "Hi", "message": "Hello"}),
    ("get", "/api/v1/me", None),
    ("get", "/api/v1/profile", None),
    ("get", "/api/v1/admin/verification-queue", None),
    ("get", "/api/v1/tickets", None),
    ("post", "/api/v1/tickets", {"category": "general", "subject": "Hi", "message": "Hello"}),
]


def objects_of(members: dict) -> dict:
    """An organization's objects the calls act on: its pending student's profile (with a
    CV) and an open email-change ticket of that student. Each call would change or show
    them."""
    with scopes_disabled():
        ticket = SupportTicket.objects.create(
            organization=members["org"],
            author=members["pending"],
            category="email_change",
            subject="Please change my login email",
            message="New address below.",
            new_email=f"pending.new@{members['org'].slug}.test",
        )
        profile = members["pending"].profile
    return {
        "profile": profile.pk,
        "ticket": ticket.pk,
        # What must never appear in an answer to another organization's member.
        "secrets": [members["pending"].user.email, profile.full_name, ticket.new_email],
    }


@pytest.fixture
def demo_objects(world):
    return objects_of(world["demo"])


def everything() -> dict:
    """Every row the calls above could touch, to show that nothing changed."""
    with scopes_disabled():
        return {
            "memberships": sorted(
                Membership.objects.values_list("pk", "verification_status", "status_message")
            ),
            "reviews": ProfileReview.objects.count(),
            "tickets": sorted(SupportTicket.objects.values_list("pk", "status")),
            "replies": TicketReply.objects.count(),
            "emails": OutboundEmail.objects.count(),
            "addresses": sorted(EmailAddress.objects.values_list("email", "verified")),
        }


def call(client, method, path, body):
    if path.startswith("/api/"):
        return getattr(client, method)(path, body, content_type="application/json")
    return getattr(client, method)(path, body or {})


def content(response) -> str:
    if response.streaming:  # a file (a CV) would have been served: read it all
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode()


# --- Another organization's ids on your own organization's host ---------------------


@pytest.mark.parametrize("role", ["admin", "student"])
@pytest.mark.parametrize(("method", "path", "body", "who"), OBJECT_CALLS, ids=CALL_IDS)
def test_a_demo_id_on_the_northside_host_is_not_found(
    world, demo_objects, client_for, role, method, path, body, who
):
    client = client_for(world["northside"][role])  # on northside.localhost
    before = everything()

    response = call(client, method, path.format(**demo_objects), body)
    missing = call(client, method, path.format(profile=NO_SUCH_ID, ticket=NO_SUCH_ID), body)

    if role == "admin" or who == "member":
        assert response.status_code == 404
    else:
        # A student is refused admin calls for any id, before any lookup (§12: 403 is
        # about the caller's role), so the answer says nothing about the demo object.
        assert response.status_code == 403
    assert response.status_code == missing.status_code
    if path.startswith("/api/"):
        assert response.json() == missing.json()  # indistinguishable from no such id
    elif response.status_code == 404:
        assert "Page not found" in content(response)
    for secret in demo_objects["secrets"]:
        assert secret not in content(response)
    assert everything() == before


@pytest.mark.parametrize(("method", "path", "body", "who"), OBJECT_CALLS, ids=CALL_IDS)
def test_the_same_demo_ids_work_for_the_demo_admin_at_home(
    world, demo_objects, client_for, method, path, body, who
):
    """The control for the table above: the ids are real and each call would act on them,
    so the 404 a northside member gets is about the organization, not the object."""
    before = everything()

    response = call(client_for(world["demo"]["admin"]), method, path.format(**demo_objects), body)

    assert response.status_code in (200, 201, 302), content(response)[:500]
    if method == "post":
        assert everything() != before  # it acted on the demo object


GET_CALLS = [(method, path, who) for method, path, _body, who in OBJECT_CALLS if method == "get"]


@pytest.mark.parametrize(
    ("method", "path", "who"), GET_CALLS, ids=[f"GET {path}" for _m, path, _w in GET_CALLS]
)
def test_each_organizations_admin_reaches_its_own_objects_and_only_those(
    world, client_for, method, path, who
):
    """Both organizations in one test: a view that kept a queryset built once (at import,
    inside whichever organization's request happened to load it) serves only one."""
    objects = {key: objects_of(world[key]) for key in ("demo", "northside")}

    for key, other in (("demo", "northside"), ("northside", "demo")):
        admin = client_for(world[key]["admin"])
        own = admin.get(path.format(**objects[key]))
        theirs = admin.get(path.format(**objects[other]))

        assert own.status_code == 200, f"{key}: {content(own)[:300]}"
        assert theirs.status_code == 404, f"{key} asking for {other}'s object"
        for secret in objects[other]["secrets"]:
            assert secret not in content(theirs)


# --- Your ids on another organization's host ----------------------------------------


@pytest.mark.parametrize("role", ["admin", "student"])
@pytest.mark.parametrize(("method", "path", "body", "who"), OBJECT_CALLS, ids=CALL_IDS)
def test_a_northside_member_knocking_on_the_demo_host_is_turned_away(
    world, demo_objects, client_for, role, method, path, body, who
):
    client = client_for(world["northside"][role], host="demo.localhost")
    before = everything()

    response = call(client, method, path.format(**demo_objects), body)

    # Nothing of this organization exists for you, whatever the id (§2); the page says
    # you are not a member and offers to join (§3).
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json() == NOT_A_MEMBER
    else:
        assert NOT_A_MEMBER_PAGE in content(response)
    for secret in demo_objects["secrets"]:
        assert secret not in content(response)
    assert everything() == before


@pytest.mark.parametrize("role", ["admin", "student"])
@pytest.mark.parametrize(
    ("method", "path", "body"), MEMBER_CALLS, ids=[f"{m.upper()} {p}" for m, p, _ in MEMBER_CALLS]
)
def test_pages_and_calls_that_need_a_membership_refuse_a_northside_member_on_the_demo_host(
    world, client_for, role, method, path, body
):
    client = client_for(world["northside"][role], host="demo.localhost")
    before = everything()

    response = call(client, method, path, body)

    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json() == NOT_A_MEMBER
    else:
        assert NOT_A_MEMBER_PAGE in content(response)
    for member in (world["demo"]["student"], world["demo"]["pending"]):
        assert member.user.email not in content(response)
    assert everything() == before


def test_a_northside_member_gets_no_api_token_on_the_demo_host(world):
    northside_student = world["northside"]["student"].user
    credentials = {"email": northside_student.email, "password": factories.PASSWORD}

    on_demo = Client(HTTP_HOST="demo.localhost").post("/api/v1/auth/token", credentials)
    at_home = Client(HTTP_HOST="northside.localhost").post("/api/v1/auth/token", credentials)

    assert on_demo.status_code == 400
    assert on_demo.json()["code"] == "invalid_credentials"
    assert at_home.status_code == 200
    assert at_home.json()["token"]


# --- Hosts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/dashboard/"),
        ("get", "/accounts/login/"),
        ("get", "/accounts/signup/"),
        ("get", "/api/v1/me"),
        ("get", "/support/1/"),
    ],
)
@pytest.mark.parametrize("host", ["ghost.localhost", "nowhere.localhost:8000"])
def test_a_host_that_names_no_organization_gets_the_unknown_organization_page(
    world, host, method, path
):
    response = getattr(Client(HTTP_HOST=host), method)(path)

    assert response.status_code == 404
    assert "No organization at this address" in response.content.decode()
    if path.startswith("/api/"):
        assert response.json()["code"] == "unknown_organization"


def test_signing_up_on_a_host_that_names_no_organization_creates_nothing(world):
    users_before = User.objects.count()

    response = Client(HTTP_HOST="ghost.localhost").post(
        "/accounts/signup/",
        {
            "email": "ghost@example.test",
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
    )

    assert response.status_code == 404
    assert "No organization at this address" in response.content.decode()
    assert User.objects.count() == users_before
    assert not User.objects.filter(email="ghost@example.test").exists()


def test_a_host_outside_allowed_hosts_is_a_bad_request(world, client_for):
    client = client_for(world["demo"]["student"], host="evil.example.com")

    response = client.get("/dashboard/")

    assert response.status_code == 400
    assert world["demo"]["student"].user.email not in response.content.decode()


def test_an_inactive_organization_is_unknown(world, client_for):
    northside = world["northside"]["org"]
    northside.is_active = False
    northside.save(update_fields=["is_active"])

    response = client_for(world["northside"]["student"]).get("/dashboard/")

    assert response.status_code == 404
    assert "No organization at this address" in response.content.decode()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "localhost:8000"])
def test_localhost_is_the_default_organization(world, client_for, host):
    demo_student, northside_student = world["demo"]["student"], world["northside"]["student"]

    me = client_for(demo_student, host=host).get("/api/v1/me")
    stranger = client_for(northside_student, host=host).get("/api/v1/me")

    assert me.status_code == 200
    assert me.json()["organization"]["slug"] == "demo"
    assert me.json()["membership_id"] == demo_student.pk
    assert stranger.status_code == 404
    assert stranger.json() == NOT_A_MEMBER


def test_a_custom_domain_names_its_organization(world, client_for, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "rotations.northside-hospital.test"]
    OrganizationDomain.objects.create(
        organization=world["northside"]["org"], domain="rotations.northside-hospital.test"
    )
    student = world["northside"]["student"]

    me = client_for(student, host="rotations.northside-hospital.test").get("/api/v1/me")

    assert me.status_code == 200
    assert me.json()["organization"]["slug"] == "northside"


# --- Django's /admin/ is the platform staff's console -------------------------------


@pytest.mark.parametrize("is_staff", [False, True], ids=["organization-admin", "staff-flag-too"])
@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/membership/"])
def test_an_organization_admin_cannot_open_django_admin(world, client_for, is_staff, path):
    admin = world["demo"]["admin"]
    User.objects.filter(pk=admin.user_id).update(is_staff=is_staff)

    response = client_for(admin).get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "USDoctors platform console" not in response.content.decode()


def test_a_superuser_opens_django_admin_across_organizations(world):
    superuser = factories.UserFactory(is_superuser=True, is_staff=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(superuser)

    index = client.get("/admin/")
    memberships = client.get("/admin/accounts/membership/")

    assert index.status_code == 200
    assert "USDoctors platform console" in index.content.decode()
    assert memberships.status_code == 200
    listing = memberships.content.decode()
    assert world["demo"]["student"].user.email in listing
    assert world["northside"]["student"].user.email in listing


# --- The safety net -----------------------------------------------------------------

TENANT_MODELS = [model for model in apps.get_models() if issubclass(model, TenantModel)]


def test_the_tenant_models_are_the_ones_we_expect_at_least():
    labels = {model._meta.label for model in TENANT_MODELS}
    assert {
        "accounts.Membership",
        "accounts.StudentProfile",
        "accounts.ProfileReview",
        "accounts.SupportTicket",
        "accounts.TicketReply",
        "notifications.OutboundEmail",
    } <= labels


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model._meta.label)
def test_a_query_on_a_tenant_model_outside_any_scope_raises(world, model):
    with pytest.raises(ScopeError):
        model.objects.count()
    with pytest.raises(ScopeError):
        list(model.objects.filter(pk__gt=0))


def test_inside_a_scope_queries_see_only_that_organizations_rows(world):
    demo, northside = world["demo"]["org"], world["northside"]["org"]
    with scopes_disabled():
        everyone = set(Membership.objects.values_list("pk", flat=True))

    with scope(organization=demo):
        seen = set(Membership.objects.values_list("pk", flat=True))

    assert seen == {world["demo"][key].pk for key in ("admin", "attending", "student", "pending")}
    assert seen < everyone
    assert not seen & {world["northside"]["student"].pk, world["northside"]["admin"].pk}
    with scope(organization=northside):
        assert not Membership.objects.filter(pk=world["demo"]["student"].pk).exists()


def _all_views(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _all_views(pattern.url_patterns)
        else:
            yield pattern.callback


def test_no_api_view_holds_a_queryset_built_at_import():
    """A class-level queryset on a tenant model is filtered once, by whichever scope was
    active when the URLconf loaded; every view must build it per request instead."""
    from django.urls import get_resolver

    offenders = [
        view.view_class.__name__
        for view in _all_views(get_resolver().url_patterns)
        if getattr(getattr(view, "view_class", None), "queryset", None) is not None
    ]
    assert offenders == []
