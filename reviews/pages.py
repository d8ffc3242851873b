"""Browser pages of reviews (DESIGN §15). Thin: parse → call one service → render
(STYLE §2); a refusal is shown on the page the form was on, next to its field, with its
status code.

- The rotation page's panel (``rotation_review_panel``): a completed rotation's student
  writes the review there; the attending reads it once revealed and answers once; admins
  read it and hide it with a reason.
- The attending's page panel (``attending_reviews_panel``): the summary and the latest
  reviews anyone in the organization may read, before requesting; admins hide there too.
- ``/attendings/<id>/reviews/``: every review of the attending the visitor may read,
  50 a page (admins: hidden ones too, with the reason).

Pages cost a fixed number of queries, however many reviews they show.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from reviews import services
from reviews.forms import AnswerForm, HideForm, ReviewForm
from reviews.models import Review
from rotations import search
from rotations import views as rotation_views
from rotations.choices import RotationStatus
from usdoctors.errors import DomainError, NotAllowed
from usdoctors.views import member_required

PAGE_SIZE = 50
PANEL_REVIEWS = 5


def described(reviews, viewer, *, now=None) -> list[Review]:
    """Give each review what the templates show: whether it is revealed, the forms the
    viewer may use on it."""
    now = now or timezone.now()
    reviews = list(reviews)
    for review in reviews:
        review.is_revealed = services.is_revealed(review, now=now)
        review.can_answer = (
            viewer.pk == review.attending.membership_id
            and review.is_revealed
            and not review.hidden
            and review.answered_at is None
        )
        review.can_hide = viewer.is_admin and not review.hidden
    return reviews


def _bound(request, name: str, form_class, prefix: str):
    """A form a failed POST left on the request (shown with its errors), else empty."""
    return getattr(request, "review_forms", {}).get(name) or form_class(prefix=prefix)


# --- The rotation page's panel ----------------------------------------------------------


def rotation_review_panel(request, rotation):
    """A completed rotation's review, for its student, its attending and admins."""
    viewer = request.membership
    if rotation.status != RotationStatus.COMPLETED:
        return None
    is_student = viewer.pk == rotation.student_id
    is_attending = viewer.pk == rotation.attending.membership_id
    if not (is_student or is_attending or viewer.is_admin):
        return None
    now = timezone.now()
    review = (
        Review.objects.filter(rotation=rotation)
        .select_related("attending", "hidden_by__user", "student__profile", "student__user")
        .first()
    )
    if review is not None:
        rotation._review_revealed_at = review.revealed_at  # the reveal gate's answer, no query
        described([review], viewer, now=now)
    deadline = services.review_deadline(rotation)
    return (
        "reviews/_rotation_panel.html",
        {
            "rotation": rotation,
            "review": review,
            "review_shown": review is not None and services.can_see_review(viewer, review, now=now),
            "is_student": is_student,
            "is_attending": is_attending,
            "can_write": is_student and review is None and deadline and now <= deadline,
            "review_deadline": deadline,
            "reveal_deadline": services.reveal_deadline(rotation),
            "review_form": _bound(request, "review", ReviewForm, "review"),
            "answer_form": _bound(request, "answer", AnswerForm, "answer"),
            "hide_form": _bound(request, "hide", HideForm, "hide"),
        },
    )


@require_POST
@member_required("student")
def review_write(request, rotation_id: int):
    """The student's review of a completed rotation, from its page."""
    rotation = rotation_views.visible_rotation(request, rotation_id)
    form = ReviewForm(request.POST, prefix="review")
    if not form.is_valid():
        return _rotation_page_with(request, rotation, "review", form, status=400)
    try:
        services.write_review(rotation, by=request.membership, **form.cleaned_data)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        return _refused(request, rotation, "review", form, error)
    messages.success(
        request,
        "Thank you: your review is in. It shows together with the attending's evaluation.",
    )
    return redirect(reverse("rotation_detail", args=[rotation.pk]) + "#review")


def _rotation_page_with(request, rotation, name, form, *, error: str = "", status: int):
    request.review_forms = {name: form}
    return rotation_views.rotation_page(request, rotation, error=error, status=status)


def _refused(request, rotation, name, form, error: DomainError):
    if error.field in form.fields:
        form.add_error(error.field, error.message)
        return _rotation_page_with(request, rotation, name, form, status=error.status_code)
    return _rotation_page_with(
        request, rotation, name, form, error=error.message, status=error.status_code
    )


def _visible_review(request, review_id: int) -> Review:
    """A review the member may see (404 for any other id, another tenant's too)."""
    review = get_object_or_404(Review.objects.select_related("attending", "rotation"), pk=review_id)
    if not services.can_see_review(request.membership, review):
        raise Http404("No such review.")
    return review


def _back(request, review: Review) -> str:
    """Where an action returns: the page it was posted from (the attending's page or
    reviews list), else the rotation's page."""
    came_from = request.POST.get("next", "")
    allowed = {
        reverse("attending_detail", args=[review.attending_id]),
        reverse("attending_reviews", args=[review.attending_id]),
    }
    if came_from in allowed:
        return f"{came_from}#review-{review.pk}"
    return reverse("rotation_detail", args=[review.rotation_id]) + "#review"


@require_POST
@member_required()
def review_answer(request, review_id: int):
    """The attending's one answer, from the rotation page."""
    review = _visible_review(request, review_id)
    form = AnswerForm(request.POST, prefix="answer")
    rotation = rotation_views.visible_rotation(request, review.rotation_id)
    if not form.is_valid():
        return _rotation_page_with(request, rotation, "answer", form, status=400)
    try:
        services.answer_review(review, by=request.membership, text=form.cleaned_data["answer"])
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        return _refused(request, rotation, "answer", form, error)
    messages.success(request, "Your answer is published under the review.")
    return redirect(_back(request, review))


@require_POST
@member_required("admin")
def review_hide(request, review_id: int):
    """An admin hides a review with a reason, from the attending's page, the reviews
    list or the rotation page."""
    review = _visible_review(request, review_id)
    form = HideForm(request.POST, prefix="hide")
    error = None
    if form.is_valid():
        try:
            services.hide_review(review, by=request.membership, reason=form.cleaned_data["reason"])
        except DomainError as refusal:
            error = refusal
            form.add_error("reason" if refusal.field == "reason" else None, refusal.message)
        else:
            messages.success(
                request, "The review is hidden; it no longer counts in the attending's summary."
            )
            return redirect(_back(request, review))
    status = error.status_code if error else 400
    return attending_reviews_page(
        request, review.attending_id, bound=(review.pk, form), status=status
    )


# --- The attending's page ---------------------------------------------------------------


def attending_reviews_panel(request, attending):
    """The summary and the latest reviews, for anyone who may see the attending's page
    (two queries)."""
    viewer = request.membership
    if viewer is None:
        return None
    reviews = services.visible_reviews(viewer, attending)
    shown = described(reviews[:PANEL_REVIEWS], viewer)
    return (
        "reviews/_attending_panel.html",
        {
            "attending": attending,
            "reviews": shown,
            "answer_form": AnswerForm(prefix="answer"),
            "hide_form": HideForm(prefix="hide"),
            "next": reverse("attending_detail", args=[attending.pk]),
        },
    )


def attending_reviews_page(request, attending_id: int, *, bound=None, status: int = 200):
    attending = get_object_or_404(search.public_attendings(request.organization), pk=attending_id)
    viewer = request.membership
    page = Paginator(services.visible_reviews(viewer, attending), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = described(page.object_list, viewer)
    return render(
        request,
        "reviews/attending_reviews.html",
        {
            "attending": attending,
            "page": page,
            "answer_form": AnswerForm(prefix="answer"),
            "hide_form": HideForm(prefix="hide"),
            "bound_review": bound[0] if bound else None,
            "bound_form": bound[1] if bound else None,
            "next": reverse("attending_reviews", args=[attending.pk]),
        },
        status=status,
    )


@member_required()
def attending_reviews(request, attending_id: int):
    return attending_reviews_page(request, attending_id)
