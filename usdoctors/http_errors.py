"""Error responses for the whole site (DESIGN §12): every response under ``/api/`` is
JSON ``{"detail", "code"}``, whatever raised it — a DRF view, Django's URL resolver (404),
a body over the upload limit (413) or an unhandled exception (500). Pages get the site's
HTML error pages with the same status.
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# The Swagger UI is an HTML page about the API, not an API response.
API_PREFIX = "/api/"
NOT_JSON_UNDER_API = ("/api/docs/",)

DETAILS = {
    400: ("Bad request.", "bad_request"),
    401: ("Authentication credentials were not provided.", "not_authenticated"),
    403: ("You are not allowed to do this.", "permission_denied"),
    404: ("Not found.", "not_found"),
    405: ("This method is not allowed here.", "method_not_allowed"),
    413: (
        "The request body is too large: files may be at most 10 MB.",
        "request_too_large",
    ),
    415: ("Unsupported media type: send JSON or multipart form data.", "unsupported_media_type"),
    429: ("Too many requests. Try again later.", "throttled"),
    500: ("Something went wrong on our side. Nothing was changed; try again.", "server_error"),
}


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX) and not request.path.startswith(NOT_JSON_UNDER_API)


def json_error(status: int, detail: str | None = None, code: str | None = None) -> JsonResponse:
    default_detail, default_code = DETAILS.get(
        status,
        (HTTPStatus(status).phrase + ".", HTTPStatus(status).phrase.lower().replace(" ", "_")),
    )
    return JsonResponse(
        {"detail": detail or default_detail, "code": code or default_code}, status=status
    )


def error_response(request: HttpRequest, status: int, detail: str | None = None) -> HttpResponse:
    """A JSON error under ``/api/``, else the site's error page for ``status``."""
    if is_api_request(request):
        return json_error(status, detail)
    template = {403: "errors/403.html", 404: "errors/404.html"}.get(status, "errors/error.html")
    message = detail or DETAILS.get(status, (HTTPStatus(status).phrase, ""))[0]
    context = {"message": message, "status": status, "title": HTTPStatus(status).phrase}
    try:
        return render(request, template, context, status=status)
    except Exception:  # the error page itself failed (e.g. the database is down)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def body_too_large(request: HttpRequest) -> bool:
    """The declared body is over the limit, so nothing should read it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class ErrorResponseMiddleware:
    """Refuse bodies over the upload limit with 413 before anything reads them, and turn
    any non-JSON error under ``/api/`` (an unknown host's page, a CSRF failure, ...) into
    JSON. Sits near the top of the stack so it sees every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if body_too_large(request):
            return error_response(request, 413)
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_request(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            headers = {
                name: response[name]
                for name in ("WWW-Authenticate", "Retry-After", "Allow")
                if response.has_header(name)
            }
            response = json_error(response.status_code)
            for name, value in headers.items():
                response[name] = value
        return response


# Django's handlers (wired in usdoctors.urls).
def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, 413)
    return error_response(request, 400)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You cannot open this page."
    return error_response(request, 403, message)


def page_not_found(request, exception=None):
    if is_api_request(request):
        return json_error(404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    return error_response(request, 500)
