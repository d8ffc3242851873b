"""API plumbing shared by every app: errors as ``{"detail", "code"}``, pagination,
role permissions (DESIGN §12)."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, permissions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from usdoctors.errors import DomainError
from usdoctors.tenancy import current_membership
from usdoctors.two_factor import (
    MFA_REQUIRED_CODE,
    missing_second_factor_message,
    second_factor_missing,
)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class ListOutput:
    """For a read-only serializer whose rows fill a list: DRF's ``to_representation``
    without its per-field overhead on every row. Each readable field's source path and
    ``to_representation`` are looked up once per serializer, then each row is read
    attribute by attribute, None staying None as in DRF. Only for sources that are plain
    attributes or properties (no dict rows, no methods to call, no field to skip);
    tests/api/test_list_output.py holds the output equal to DRF's own."""

    def to_representation(self, instance):
        plan = self.__dict__.get("_list_output_plan")
        if plan is None:
            plan = self.__dict__["_list_output_plan"] = [
                (field.field_name, field.source_attrs, field.to_representation)
                for field in self._readable_fields
            ]
        data = {}
        for name, path, represent in plan:
            value = instance
            for attribute in path:
                value = getattr(value, attribute)
            data[name] = None if value is None else represent(value)
        return data


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large: files may be at most 10 MB."
    default_code = "request_too_large"


def exception_handler(exc, context):
    """Every error body is ``{"detail": str, "code": str}``; field errors add ``errors``."""
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        if exc.details:
            body.update({key: value for key, value in exc.details.items() if key not in body})
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first = _first_message(errors)
        response.data = {"detail": first, "code": "invalid", "errors": errors}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code}
    return response


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


class HasRole(permissions.BasePermission):
    """Allow members of the request's organization holding one of ``roles``."""

    roles: tuple[str, ...] = ()
    message = "This call is not available to your role in this organization."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False  # DRF answers 401
        membership = current_membership(request)
        if membership is None:
            # Nothing of another organization exists for you: 404, like its pages (§2).
            raise exceptions.NotFound("You are not a member of this organization.")
        if second_factor_missing(request, membership):
            # Admins and staff need a second factor first (accounts.mfa); token
            # clients are only known here, after DRF authenticated them.
            raise exceptions.PermissionDenied(
                missing_second_factor_message(request.user), code=MFA_REQUIRED_CODE
            )
        return membership.role in self.roles


class IsMember(HasRole):
    roles = ("student", "attending", "admin")
    message = "You are not a member of this organization."


class IsStudent(HasRole):
    roles = ("student",)
    message = "Only students can use this call."


class IsOrganizationAdmin(HasRole):
    roles = ("admin",)
    message = "Only this organization's admins can use this call."


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(required=False)


def error_responses(*statuses: int) -> dict:
    """OpenAPI responses for the error statuses a call may answer with."""
    return {status: ErrorSerializer for status in statuses}
