"""Documents API under /api/v1/ (DESIGN §7, §12)."""

from django.urls import path

from documents.api import views

urlpatterns = [
    path("document-types", views.DocumentTypeListView.as_view(), name="api_document_types"),
    path(
        "document-requirements",
        views.DocumentRequirementsView.as_view(),
        name="api_document_requirements",
    ),
    path("documents", views.DocumentListView.as_view(), name="api_documents"),
    path("documents/<int:pk>", views.DocumentDetailView.as_view(), name="api_document"),
    path("documents/<int:pk>/file", views.DocumentFileView.as_view(), name="api_document_file"),
    path(
        "documents/<int:pk>/approve",
        views.ApproveDocumentView.as_view(),
        name="api_document_approve",
    ),
    path(
        "documents/<int:pk>/reject", views.RejectDocumentView.as_view(), name="api_document_reject"
    ),
    path(
        "rotations/<int:pk>/checklist",
        views.RotationChecklistView.as_view(),
        name="api_rotation_checklist",
    ),
]
