"""Domain errors raised by services. Each carries a machine code and a human message;
``usdoctors.api.exception_handler`` maps them to HTTP for the API and browser views show
the message next to the form (STYLE §2).
"""


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"
    # More JSON for the API body beside detail and code (e.g. the unmet items of a
    # refused request, rotations.eligibility.NotEligible).
    details: dict | None = None

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field


class Invalid(DomainError):
    """Bad input: 400."""


class NotAllowed(DomainError):
    """Not allowed for the caller's role or state: 403."""

    status_code = 403
    default_code = "not_allowed"


class Conflict(DomainError):
    """The object is not in a state that allows this: 409."""

    status_code = 409
    default_code = "conflict"
