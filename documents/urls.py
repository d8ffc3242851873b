"""Documents' browser pages (documents.pages) and the school's upload link
(documents.school_pages: no account, signed link)."""

from django.urls import path

from documents import credential_pages, pages, school_pages, visa_refusal_pages

urlpatterns = [
    path("documents/", pages.my_documents, name="my_documents"),
    path("documents/types/<slug:type_code>/upload/", pages.upload, name="document_upload"),
    path("documents/<int:document_id>/delete/", pages.delete, name="document_delete"),
    path("documents/<int:document_id>/file/", pages.document_file, name="document_file"),
    path("documents/review/", pages.review_queue, name="document_review"),
    path("documents/review/<int:document_id>/approve/", pages.approve, name="document_approve"),
    path("documents/review/<int:document_id>/reject/", pages.reject, name="document_reject"),
    path("documents/settings/", pages.organization_settings, name="document_settings"),
    path(
        "documents/my-requirements/",
        pages.attending_requirements,
        name="attending_document_requirements",
    ),
    path("documents/credentials/", credential_pages.my_credentials, name="attending_credentials"),
    path(
        "documents/credentials/<slug:kind>/upload/",
        credential_pages.upload,
        name="attending_credential_upload",
    ),
    path(
        "documents/credentials/<int:credential_id>/file/",
        credential_pages.credential_file,
        name="attending_credential_file",
    ),
    path(
        "documents/review/credentials/<int:credential_id>/approve/",
        credential_pages.approve,
        name="credential_approve",
    ),
    path(
        "documents/review/credentials/<int:credential_id>/reject/",
        credential_pages.reject,
        name="credential_reject",
    ),
    path(
        "rotations/<int:rotation_id>/visa-refusal/",
        visa_refusal_pages.upload,
        name="visa_refusal_upload",
    ),
    path("visa-refusals/", visa_refusal_pages.waiting_list, name="visa_refusals"),
    path(
        "visa-refusals/<int:refusal_id>/confirm/",
        visa_refusal_pages.confirm,
        name="visa_refusal_confirm",
    ),
    path(
        "visa-refusals/<int:refusal_id>/reject/",
        visa_refusal_pages.reject,
        name="visa_refusal_reject",
    ),
    path(
        "visa-refusals/<int:refusal_id>/file/",
        visa_refusal_pages.refusal_file,
        name="visa_refusal_file",
    ),
    path(
        "school/documents/<str:token>/",
        school_pages.school_documents_link,
        name="school_documents_link",
    ),
]
