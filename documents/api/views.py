"""Documents API under /api/v1/ (DESIGN §3, §7, §12).

Views parse, call one service and serialize (STYLE §2). Who may read a document is
documents.access's §3 rule — the student, the organization's admins, attendings with an
``approved`` or ``in_progress`` rotation with the student — and anyone else gets 404,
exactly like an id that does not exist or belongs to another organization. The
requested attending sees a request's checklist states but never a document (nor its id);
the CV lives on the profile (``/students/{id}/cv/``).

Uploads: students upload their own documents; an admin may upload for a student (a
paper record that reached the office) by naming the student's membership id. Either way
the document waits for an admin's review.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership
from documents import access, requirements, review
from documents.api.serializers import (
    ChecklistSerializer,
    DocumentFilterSerializer,
    DocumentRejectionSerializer,
    DocumentSerializer,
    DocumentTypeSerializer,
    DocumentUploadSerializer,
    RequirementsSerializer,
)
from documents.checklist import checklist, is_complete
from documents.models import Document, DocumentStatus, DocumentType, UploadedBy
from documents.uploads import delete_document, upload_document
from rotations import services as rotation_services
from usdoctors.api import HasRole, IsMember, IsOrganizationAdmin, error_responses
from usdoctors.errors import Invalid, NotAllowed
from usdoctors.parsers import JSONParser
from usdoctors.tenancy import current_membership

# No or bad credentials 401, a refusal for the caller's role 403, not a member of this
# organization (or not allowed to see the object) 404.
MEMBER_ERRORS = (401, 403, 404)


class IsStudentOrAdmin(HasRole):
    roles = ("student", "admin")
    message = "Only students and this organization's admins can use this call."


class IsAdminOrAttending(HasRole):
    roles = ("admin", "attending")
    message = "Only this organization's admins and attendings set required documents."


def document_list(viewer: Membership):
    """The documents ``viewer`` may read, with what the serializer shows (fixed queries)."""
    return access.readable_documents(viewer).select_related(
        "document_type", "student__user", "student__profile"
    )


# --- The catalog ---------------------------------------------------------------------------


class DocumentTypeListView(generics.ListAPIView):
    """The §7 catalog: each type's rule and whether this organization requires it."""

    permission_classes = [IsMember]
    serializer_class = DocumentTypeSerializer

    def get_queryset(self):
        return DocumentType.objects.all()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        organization = getattr(self.request, "organization", None)
        context["required_ids"] = (
            requirements.organization_type_ids(organization) if organization else set()
        )
        return context

    @extend_schema(
        responses={200: DocumentTypeSerializer(many=True), **error_responses(*MEMBER_ERRORS)}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Documents -----------------------------------------------------------------------------


class DocumentListView(generics.ListAPIView):
    """``GET``: the documents you may read — students their own, admins the
    organization's, attendings those of students with whom they have an approved or
    in-progress rotation — newest upload first; ``?status=submitted`` is the admins'
    review queue, oldest upload first. ``POST`` (``multipart/form-data``): upload or
    replace the student's document of one type. A replacement keeps the document's id,
    goes back to ``submitted`` for review, and the old file is deleted."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_permissions(self):
        return [IsStudentOrAdmin()] if self.request.method == "POST" else [IsMember()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return Document.objects.none()
        documents = document_list(current_membership(self.request))
        filters = DocumentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        if "student" in wanted:
            documents = documents.filter(student_id=wanted["student"])
        if "status" in wanted:
            documents = documents.filter(status=wanted["status"])
        if wanted.get("status") == DocumentStatus.SUBMITTED:
            return documents.order_by("uploaded_at", "pk")  # the review queue
        return documents.order_by("-uploaded_at", "-pk")

    @extend_schema(
        parameters=[DocumentFilterSerializer],
        responses={200: DocumentSerializer(many=True), **error_responses(400, *MEMBER_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={
            201: DocumentSerializer,
            **error_responses(400, *MEMBER_ERRORS, 413, 415),
        },
    )
    def post(self, request):
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        membership = current_membership(request)
        student, uploaded_by = self.owner(membership, data.get("student"))
        document = upload_document(
            student,
            data["document_type"],
            data["file"],
            issued_on=data["issued_on"],
            expires_on=data.get("expires_on"),
            uploaded_by=uploaded_by,
        )
        document = document_list(membership).get(pk=document.pk)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def owner(membership: Membership, student_id: int | None) -> tuple[Membership, str]:
        """Whose document this is: a student's own; for an admin, the student named."""
        if membership.is_student:
            if student_id is not None and student_id != membership.pk:
                raise NotAllowed(
                    "Students upload their own documents; leave out “student”.",
                    code="not_your_document",
                )
            return membership, UploadedBy.STUDENT
        if student_id is None:
            raise Invalid(
                "Name the student (their membership id) whose document this is.",
                code="student_required",
                field="student",
            )
        student = (
            Membership.objects.filter(
                pk=student_id, organization_id=membership.organization_id, role="student"
            )
            .select_related("user")
            .first()
        )
        if student is None:
            raise Invalid(
                "No such student in this organization.", code="no_such_student", field="student"
            )
        return student, UploadedBy.ADMIN


class DocumentDetailView(APIView):
    """``GET``: one document, for whoever may read it (§3; 404 otherwise). ``DELETE``:
    the student or an admin deletes it and its file (403 for an attending who may read
    it)."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: DocumentSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request, pk: int):
        document = get_object_or_404(document_list(current_membership(request)), pk=pk)
        return Response(DocumentSerializer(document).data)

    @extend_schema(responses={204: None, **error_responses(*MEMBER_ERRORS)})
    def delete(self, request, pk: int):
        membership = current_membership(request)
        document = access.readable_document_or_404(membership, pk)
        delete_document(document, by=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JsonErrorsWhateverTheAccept(DefaultContentNegotiation):
    """The file call answers bytes on success and JSON errors otherwise, whatever the
    client's ``Accept`` (a client asking for ``application/pdf`` must not get a 406)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


BINARY = OpenApiResponse(
    OpenApiTypes.BINARY,
    description="The file, as an attachment under our generated name (never the uploaded "
    "one), with ``X-Content-Type-Options: nosniff`` and ``Cache-Control: private, "
    "no-store``.",
)


class DocumentFileView(APIView):
    """The document's bytes, for the student, the organization's admins and attendings
    with an approved or in-progress rotation with the student (§3); 404 for anyone else,
    so a document's existence is never revealed."""

    permission_classes = [IsMember]
    content_negotiation_class = JsonErrorsWhateverTheAccept

    @extend_schema(
        responses={
            (200, "application/pdf"): BINARY,
            (200, "image/png"): BINARY,
            (200, "image/jpeg"): BINARY,
            **error_responses(*MEMBER_ERRORS),
        }
    )
    def get(self, request, pk: int):
        return access.file_response(current_membership(request), pk)


# --- Review (admins) -----------------------------------------------------------------------


class ApproveDocumentView(APIView):
    """Approve a submitted document (409 when it is not waiting for review)."""

    permission_classes = [IsOrganizationAdmin]

    @extend_schema(
        request=None,
        responses={200: DocumentSerializer, **error_responses(*MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        membership = current_membership(request)
        document = review.approve_document(get_object_or_404(Document, pk=pk), by=membership)
        return Response(DocumentSerializer(document_list(membership).get(pk=document.pk)).data)


class RejectDocumentView(APIView):
    """Reject a submitted document with a reason (400 without one); the student sees the
    reason and is emailed it. 409 when it is not waiting for review."""

    permission_classes = [IsOrganizationAdmin]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=DocumentRejectionSerializer,
        responses={200: DocumentSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        membership = current_membership(request)
        document = get_object_or_404(Document, pk=pk)
        serializer = DocumentRejectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = review.reject_document(
            document, by=membership, reason=serializer.validated_data["reason"]
        )
        return Response(DocumentSerializer(document_list(membership).get(pk=document.pk)).data)


# --- The rotation's checklist --------------------------------------------------------------


class RotationChecklistView(APIView):
    """The rotation's document checklist (§7), for whoever may see the rotation (its
    student, its attending, the organization's admins; 404 for anyone else). Item states:
    ``missing``, ``submitted``, ``approved``, ``rejected`` (with the reason) and
    ``expired`` (it does not count for this rotation's dates). ``complete`` when every
    item is approved and valid. Document ids only for callers who may read the files:
    the attending of a request that waits sees states, not documents."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: ChecklistSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request, pk: int):
        membership = current_membership(request)
        rotation = get_object_or_404(rotation_services.visible_rotations(membership), pk=pk)
        items = checklist(rotation)
        # Every document here is the student's: the §3 rule answers once for all of them.
        can_read_files = access.can_read_documents_of(membership, rotation.student)
        body = {"rotation": rotation, "complete": is_complete(items), "items": items}
        return Response(ChecklistSerializer(body, context={"can_read_files": can_read_files}).data)


# --- Required sets -------------------------------------------------------------------------


class DocumentRequirementsView(APIView):
    """Admins: the organization's required set, asked of every rotation. Attendings: the
    types they add for rotations with them (a type the organization requires is required
    anyway and is not kept among theirs). ``PUT`` replaces the set; an unknown code is
    400 and changes nothing."""

    permission_classes = [IsAdminOrAttending]

    @extend_schema(responses={200: RequirementsSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request):
        return Response(self.current(current_membership(request), requirements.catalog()))

    @extend_schema(
        request=RequirementsSerializer,
        responses={200: RequirementsSerializer, **error_responses(400, *MEMBER_ERRORS)},
    )
    def put(self, request):
        membership = current_membership(request)
        catalog = requirements.catalog()
        serializer = RequirementsSerializer(data=request.data, context={"catalog": catalog})
        serializer.is_valid(raise_exception=True)
        ids = {document_type.code: document_type.pk for document_type in catalog}
        chosen = [ids[code] for code in serializer.validated_data["document_types"]]
        if membership.is_admin:
            requirements.set_organization_types(membership.organization, chosen)
        else:
            requirements.set_attending_types(membership, chosen)
        return Response(self.current(membership, catalog))

    @staticmethod
    def current(membership: Membership, catalog) -> dict:
        codes = {document_type.pk: document_type.code for document_type in catalog}
        organization_ids = requirements.organization_type_ids(membership.organization)
        own = (
            organization_ids if membership.is_admin else requirements.attending_type_ids(membership)
        )
        in_order = [document_type.pk for document_type in catalog]
        return RequirementsSerializer(
            {
                "document_types": [codes[pk] for pk in in_order if pk in own],
                "required_by_organization": [
                    codes[pk] for pk in in_order if pk in organization_ids
                ],
            }
        ).data
