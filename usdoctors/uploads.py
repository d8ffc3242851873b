"""Uploads shared by CVs and documents (DESIGN §3, §7): the type is read from the file's
content, never from its name (puremagic, a maintained detection library, and the
format's own leading signature must agree), size is capped, an empty file is refused,
and a replaced or removed file leaves the disk with its row."""

import math

import puremagic
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404

MEGABYTE = 1024 * 1024
MAX_UPLOAD_MEGABYTES = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MEGABYTES * MEGABYTE

SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}


def sniff_content_type(uploaded) -> str | None:
    """The file's type from its content: what puremagic detects, when the file also
    starts with that format's signature (a file that merely ends like a PDF is not one)."""
    position = uploaded.tell() if hasattr(uploaded, "tell") else 0
    try:
        uploaded.seek(0)
        try:
            detected = puremagic.from_stream(uploaded, mime=True)
        except (puremagic.PureError, ValueError):
            detected = None
        uploaded.seek(0)
        head = uploaded.read(16)
    finally:
        uploaded.seek(position)
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature) and detected == content_type:
            return content_type
    return None


def validate_upload(uploaded, *, allowed: tuple[str, ...], what: str = "The file") -> str:
    """Refuse empty files, files over 10 MB, and files whose content is not one of
    ``allowed``."""
    if not uploaded.size:
        raise ValidationError(f"{what} is empty.", code="empty_file")
    if uploaded.size > MAX_UPLOAD_BYTES:
        # Rounded up, so a file just over the limit never reads as "10.0 MB".
        size = math.ceil(uploaded.size / MEGABYTE * 100) / 100
        raise ValidationError(
            f"{what} is {size:.2f} MB; files may be at most {MAX_UPLOAD_MEGABYTES} MB.",
            code="file_too_large",
        )
    content_type = sniff_content_type(uploaded)
    if content_type not in allowed:
        labels = [LABELS[kind] for kind in allowed]
        names = " or ".join(filter(None, [", ".join(labels[:-1]), labels[-1]]))  # A, B or C
        raise ValidationError(f"{what} must be a {names} file.", code="file_type")
    return content_type


def validate_pdf(uploaded) -> None:
    # Files already stored were checked on upload; only new uploads are read here.
    if getattr(uploaded, "_committed", True) and not hasattr(uploaded, "content_type"):
        return
    validate_upload(uploaded, allowed=("application/pdf",), what="The CV")


class RemovesReplacedFiles:
    """Mixin for models with file fields (``file_fields``): when a save replaces or clears
    a file, or the row is deleted, the old file is removed from storage once the
    transaction commits (a rollback keeps it, since the row still points at it)."""

    file_fields: tuple[str, ...] = ()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_file_names = {
            name: getattr(instance, name).name for name in cls.file_fields if name in field_names
        }
        return instance

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        stored = getattr(self, "_stored_file_names", {})
        for name in self.file_fields:
            old, new = stored.get(name), getattr(self, name).name
            if old and old != new:
                _delete_after_commit(getattr(self, name).storage, old)
        self._stored_file_names = {name: getattr(self, name).name for name in self.file_fields}

    def delete(self, *args, **kwargs):
        files = [
            (getattr(self, name).storage, getattr(self, name).name) for name in self.file_fields
        ]
        result = super().delete(*args, **kwargs)
        for storage, name in files:
            if name:
                _delete_after_commit(storage, name)
        return result


def _delete_after_commit(storage, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))


def private_download(stored, *, filename: str, content_type: str, missing: str) -> FileResponse:
    """An upload's bytes (``stored``, its file field) as a download under our own name:
    never sniffed by the browser, never cached by a shared cache; 404 ``missing`` when
    the file is gone. CVs, documents, attendings' credentials and visa refusals answer so."""
    try:
        handle = stored.open("rb")
    except FileNotFoundError as gone:
        raise Http404(missing) from gone
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
