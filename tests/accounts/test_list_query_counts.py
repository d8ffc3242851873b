"""List pages and API lists run a fixed number of queries, however many rows."""

import re

import pytest
from django_scopes import scopes_disabled

from accounts.models import SupportTicket, TicketReply
from tests import factories


def add_tickets(organization, count: int):
    with scopes_disabled():
        for _ in range(count):
            author = factories.StudentFactory(organization=organization, profile=False)
            ticket = SupportTicket.objects.create(
                organization=organization,
                author=author,
                category="general",
                subject="Question",
                message="When do rotations start?",
            )
            TicketReply.objects.create(
                organization=organization, ticket=ticket, author=author, message="Any news?"
            )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/support/", "/api/v1/tickets"])
def test_ticket_lists_do_not_grow_queries_with_rows(
    path, world, client_for, django_assert_max_num_queries
):
    admin = client_for(world["demo"]["admin"])
    add_tickets(world["demo"]["org"], 2)
    add_tickets(world["northside"]["org"], 3)
    with django_assert_max_num_queries(12) as few:
        assert admin.get(path).status_code == 200
    add_tickets(world["demo"]["org"], 40)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = admin.get(path)
    assert response.status_code == 200
    if path.startswith("/api/"):
        assert response.json()["count"] == 42  # demo's only
    else:
        assert len(re.findall(r'href="/support/\d+/"', response.content.decode())) == 42
    assert len(many.captured_queries) == len(few.captured_queries)
