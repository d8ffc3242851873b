"""The match-season planner's pages (DESIGN §14). Thin: parse → call one service →
render (STYLE §2); the rules are ``lor.planner``'s, the feed is ``lor.calendar_feed``'s.

- ``/planner/``: the student's target form, their season's timeline with their
  rotations, letters and documents, the warnings, the progress towards the targets, and
  their calendar address with the button that resets it.
- ``/planner/calendar/reset/`` (POST): a new calendar address; the old one answers 404.
- ``/calendar/<token>.ics``: the feed itself, without signing in (calendar applications
  cannot); an unknown, reset or other organization's token answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Membership
from lor import calendar_feed, planner
from lor.forms import MatchTargetForm
from lor.models import CalendarFeed
from usdoctors.errors import DomainError
from usdoctors.links import organization_url
from usdoctors.views import member_required


def feed_urls(member: Membership) -> dict:
    """The member's calendar address, as https and as webcal:// (which opens the
    calendar application's subscribe dialog)."""
    feed = planner.calendar_feed(member)
    url = organization_url(member.organization, reverse("calendar_feed", args=[feed.token]))
    return {"feed_url": url, "feed_webcal_url": "webcal://" + url.split("://", 1)[1]}


@member_required("student")
def planner_page(request):
    """GET: the plan. POST: save the target (``planner.set_match_target``); a refusal
    stays on the form, next to its field, with status 400."""
    student = request.membership
    today = timezone.localdate()
    plan = planner.build_plan(student, today=today)
    data = request.POST if request.method == "POST" else None
    form = MatchTargetForm(data, student=student, plan=plan, today=today)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                planner.set_match_target(student, today=today, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
                status = error.status_code
            else:
                messages.success(request, "Your target is saved; the plan below follows it.")
                return redirect("planner")
        else:
            status = 400
    return render(
        request,
        "lor/planner.html",
        {"plan": plan, "form": form, **feed_urls(student)},
        status=status,
    )


@require_POST
@member_required()
def reset_calendar(request):
    planner.reset_calendar_feed(request.membership)
    messages.success(
        request,
        "Your calendar has a new address. The old one no longer works: subscribe again "
        "with the address below.",
    )
    return redirect("planner" if request.membership.is_student else "dashboard")


# Attendings find their calendar address on their dashboard (dashboard_planner below).


def calendar_feed_view(request, token: str):
    """The feed for whoever holds the secret address (RFC 5545, ``text/calendar``)."""
    feed = CalendarFeed.objects.filter(token=token).select_related("member__user").first()
    if feed is None:
        raise Http404("No calendar at this address.")
    member = feed.member
    member.organization = request.organization
    response = HttpResponse(
        calendar_feed.render_feed(member), content_type=calendar_feed.CONTENT_TYPE
    )
    response["Content-Disposition"] = 'inline; filename="usdoctors.ics"'
    response["Cache-Control"] = "private, max-age=0, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def dashboard_planner(membership: Membership) -> dict:
    """The student dashboard's next deadline from their plan; the attending dashboard's
    calendar address (a fixed number of queries)."""
    if membership.is_attending:
        return feed_urls(membership)
    if not membership.is_student:
        return {}
    plan = planner.build_plan(membership, today=timezone.localdate())
    return {"planner_season": plan.season, "next_deadline": plan.next_deadline}
