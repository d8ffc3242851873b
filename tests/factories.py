"""factory-boy factories. Build tenant rows under ``scopes_disabled()`` in tests."""

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Membership, StudentProfile, User
from usdoctors.models import Organization

PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org{n}")
    name = factory.LazyAttribute(lambda o: f"Organization {o.slug}")
    support_email = factory.LazyAttribute(lambda o: f"support@{o.slug}.test")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = "student"


class StudentFactory(MembershipFactory):
    """A student with a complete profile; verified unless ``pending``/``status`` say otherwise."""

    class Params:
        pending = factory.Trait(
            verification_status="pending", submitted_at=factory.LazyFunction(timezone.now)
        )

    role = "student"
    verification_status = "verified"

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if not create:
            return
        from tests.conftest import pdf_upload

        fields = {
            "full_name": f"Student {self.user.last_name}",
            "kind": "img",
            "medical_school": "Manipal College of Medical Sciences",
            "country": "Nepal",
            "graduation_year": 2024,
            "school_contact_email": "registrar@school.test",
            "visa_status": "b1_b2",
            "cv": pdf_upload(),
        }
        if extracted is False:  # profile=False: an empty profile, as right after sign-up
            fields = {}
        fields.update(kwargs)
        profile = StudentProfile(organization=self.organization, membership=self, **fields)
        profile.save()
