"""Upload checks shared by CVs and documents (DESIGN §3, §7): the type is read from the
file's first bytes, never from its name, and size is capped."""

from django.core.exceptions import ValidationError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}


def sniff_content_type(uploaded) -> str | None:
    position = uploaded.tell() if hasattr(uploaded, "tell") else 0
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(position)
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


def validate_upload(uploaded, *, allowed: tuple[str, ...], what: str = "The file") -> str:
    """Refuse files over 10 MB or whose content is not one of ``allowed``."""
    if uploaded.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"{what} is {uploaded.size / 1024 / 1024:.1f} MB; the limit is 10 MB.",
            code="file_too_large",
        )
    content_type = sniff_content_type(uploaded)
    if content_type not in allowed:
        names = " or ".join(LABELS[kind] for kind in allowed)
        raise ValidationError(f"{what} must be a {names} file.", code="file_type")
    return content_type


def validate_pdf(uploaded) -> None:
    # Files already stored were checked on upload; only new uploads are read here.
    if getattr(uploaded, "_committed", True) and not hasattr(uploaded, "content_type"):
        return
    validate_upload(uploaded, allowed=("application/pdf",), what="The CV")
