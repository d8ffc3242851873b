"""Issue 11, part 7: every page any role can reach fits a 390 px phone (Chromium, 390×844):
the page never scrolls sideways, no visible button, link or control sticks out of the
viewport or is cut off by a box that hides its overflow, and axe-core finds no serious or
critical violation.

The page list builds itself, so pages added later are covered: for each role (anonymous,
a verified student with rotations, documents and a letter, an attending with requests and
availability, an admin) the test crawls from the home page or the dashboard, following
same-origin GET links breadth-first (see ``Crawl``), plus a fixed list of detail pages
with ids so those are always checked. Every failure is collected; one assertion at the
end lists them all.

axe-core 4.10.3 is vendored in tests/browser/vendor (MPL-2.0, its LICENSE beside it).
"""

import re
from collections import deque
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.tickets import open_ticket
from documents.models import DocumentType
from documents.school_link import upload_url
from documents.uploads import upload_document
from payments import school
from payments.models import Installment
from payments.pages import pay_link
from payments.sending import send_installment
from rotations import services as rotation_services
from tests import factories
from tests.browser.conftest import log_in
from tests.conftest import MINIMAL_PDF
from tests.payments.school_helpers import school_rotation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SOURCE = AXE.read_text()
SERIOUS = ["serious", "critical"]
PAGES_PER_ROLE = 60

# Never followed: signing out, the staff console, the API, files and downloads.
SKIPPED = re.compile(
    r"logout|^/admin/|^/api/|/file/$|/cv/$|\.pdf$|/download|^/static/|^/media/", re.I
)
ID_OR_TOKEN = re.compile(r"/(\d+|[A-Za-z0-9_:.-]{24,})(?=/|$)")

# Runs in the page: what sticks out at this width.
LAYOUT_PROBLEMS = """() => {
  const width = window.innerWidth;
  const problems = [];
  const pageWidth = document.documentElement.scrollWidth;
  if (pageWidth > width) problems.push(`the page is ${pageWidth} px wide (scrolls sideways)`);
  // A header that wraps its navigation onto several lines pushes the page off the screen.
  const header = document.querySelector('.site-header');
  const headerHeight = header ? header.getBoundingClientRect().height : 0;
  if (headerHeight > 100) problems.push(`the header is ${Math.round(headerHeight)} px tall`);
  const describe = (el) => {
    const name = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 50);
    return `<${el.tagName.toLowerCase()}> "${name}"`;
  };
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary');
  for (const el of controls) {
    const box = el.getBoundingClientRect();
    // Not rendered, or visually hidden (1 px boxes): nothing a finger can miss.
    if (box.width <= 1 || box.height <= 1) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    let scrollable = null, hidden = false;
    for (let box2 = el.parentElement; box2 && box2 !== document.documentElement;
         box2 = box2.parentElement) {
      const rect = box2.getBoundingClientRect();
      if (rect.width <= 1 || rect.height <= 1) { hidden = true; break; }
      const overflow = getComputedStyle(box2).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') { scrollable = box2; break; }
      if ((overflow === 'hidden' || overflow === 'clip') &&
          (box.left < rect.left - 1 || box.right > rect.right + 1)) {
        problems.push(`${describe(el)} is cut off by its box`);
        hidden = true; break;
      }
    }
    if (hidden) continue;
    // Inside a box that scrolls itself, a control is reached by scrolling that box;
    // the box itself must fit.
    const outer = scrollable ? scrollable.getBoundingClientRect() : box;
    if (outer.left < -1 || outer.right > width + 1) {
      problems.push(`${describe(el)} sticks out of the screen (${Math.round(outer.left)}` +
        `–${Math.round(outer.right)} px)`);
    }
  }
  return problems;
}"""

AXE_SERIOUS = """async (impacts) => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.filter((v) => impacts.includes(v.impact)).map((v) =>
    `${v.id} (${v.impact}): ${v.help} — ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
}"""


def serious_axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now. Evaluated
    rather than added as a <script>: the site's CSP refuses inline scripts."""
    page.evaluate(AXE_SOURCE)
    return page.evaluate(AXE_SERIOUS, SERIOUS)


def page_key(path: str) -> str:
    """A path with its ids and tokens replaced: one page of each kind is enough."""
    return ID_OR_TOKEN.sub("/<id>", path)


class Crawl:
    """One role's walk through the site in its own browser context.

    Breadth-first from ``start`` over same-origin ``<a href>`` links, one page per path
    once ids are normalised, skipping ``SKIPPED`` paths and every link with a query
    string after the first one of its path; the ``fixed`` paths are always visited
    (their exact paths, so several states of one kind of page are checked)."""

    def __init__(self, context, base: str, role: str):
        self.page = context.new_page()
        self.base = base
        self.role = role
        self.origin = urlsplit(base).netloc
        self.failures: list[str] = []
        self.visited: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.failures.append(f"{self.role} {self.page.url}: CSP refused: {message.text}")

    def run(self, start: list[str], fixed: list[str]) -> None:
        queue = deque((path, "the fixed list") for path in fixed)
        queue.extend((path, "") for path in start)
        seen: set[str] = set()
        seen_exact: set[str] = set()
        while queue and len(self.visited) < PAGES_PER_ROLE:
            url, found_on = queue.popleft()
            is_fixed = found_on == "the fixed list"
            split = urlsplit(url)
            key = page_key(split.path) + ("?" if split.query else "")
            if url in seen_exact or (not is_fixed and key in seen):
                continue
            seen.add(key)
            seen_exact.add(url)
            for link in self.visit(url, found_on):
                queue.append((link, url))

    def visit(self, url: str, found_on: str) -> list[str]:
        """Load ``url``, check it, and return the same-origin links worth following."""
        page = self.page
        response = page.goto(self.base + url)
        where = f"{self.role} {url}"
        if response is None or response.status >= 400:
            status = response.status if response else "no response"
            self.failures.append(f"{where}: HTTP {status} (linked from {found_on or 'start'})")
        self.visited.append(url)
        for problem in page.evaluate(LAYOUT_PROBLEMS):
            self.failures.append(f"{where}: {problem}")
        for violation in serious_axe_violations(page):
            self.failures.append(f"{where}: axe {violation}")
        links = []
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            split = urlsplit(href)
            if split.scheme not in ("http", "https") or split.netloc != self.origin:
                continue
            if SKIPPED.search(split.path):
                continue
            links.append(split.path + (f"?{split.query}" if split.query else ""))
        return links


@pytest.fixture
def world(site, settings):
    """Demo's people with something on every page: a verified student with an approved
    rotation (invoiced), a completed one with a letter, a submitted document and a
    support ticket; an attending with published weeks, a request waiting and an NPI to
    check; a pending student for the verification queue; a new student whose profile is
    still a form to fill in; an admin. Names are long, as
    real ones can be. Northside has a student too, never shown to demo."""
    settings.SITE_PORT = site["url"].rsplit(":", 1)[1]
    organization = site["org"]
    start = factories.next_monday(3)
    with scopes_disabled():
        admin = factories.MembershipFactory(organization=organization, role="admin")
        attending = factories.AttendingProfileFactory(
            organization=organization,
            display_name="Dr. Maria-Fernanda Castellanos-Whitfield",
            practice_name="Greater Houston Community Internal Medicine Associates",
            npi="1234567893",
        )
        factories.publish(attending, factories.next_monday(2), 8, capacity=2)
        student = factories.StudentFactory(
            organization=organization,
            profile__full_name="Oluwaseun Adebayo-Chukwuemeka Nwankwo",
            user__email="oluwaseun.adebayo-chukwuemeka.nwankwo@university-hospital.test",
        )
        waiting = factories.StudentFactory(organization=organization)
        pending = factories.StudentFactory(organization=organization, pending=True)
        newcomer = factories.StudentFactory(
            organization=organization, verification_status="incomplete", profile=False
        )
        completed = factories.completed_rotation(
            organization=organization, attending=attending, student=student
        )
        letter = factories.LetterFactory(rotation=completed)
        factories.StudentFactory(organization=factories.OrganizationFactory(slug="northside"))
    with scope(organization=organization):
        approved = rotation_services.request_rotation(
            student,
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=2,
            plan="full",
            payment_method="zelle",
        )
        approved = rotation_services.approve_rotation(approved, by=attending.membership)
        requested = rotation_services.request_rotation(
            waiting,
            attending=attending,
            rotation_type="observership",
            mode="tele",
            start=start,
            weeks=1,
            payment_method="zelle",
        )
        upload_document(
            student,
            DocumentType.objects.get(code="tb_test_immunizations"),
            SimpleUploadedFile("tb.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=timezone.localdate() - timedelta(days=30),
        )
        ticket = open_ticket(
            student,
            category="general",
            subject="Question about the immunization report my school sends separately",
            message="Can my school email the report directly to you instead?",
        )
        installment = Installment.objects.filter(invoice__rotation=approved).first()
        school_link = urlsplit(upload_url(approved)).path
    # Two more students' rotations for the pages without an account: a school-paid one
    # (the school's link to confirm or refuse) and one paid by PayPal through the
    # simulated gateway (the page where the payer pays the sent installment).
    school_paid = school_rotation(organization)
    by_card = school_rotation(organization, payer="self", card=False)
    with scope(organization=organization):
        school_payment_link = urlsplit(school.confirmation_url(school_paid)).path
        [sent] = Installment.objects.filter(invoice__rotation=by_card)
        assert send_installment(sent.pk) == "sent"
        sent.refresh_from_db()
        simulated_pay_page = urlsplit(pay_link(sent)).path
        assert simulated_pay_page.startswith("/payments/simulated/")
    return {
        "admin": admin,
        "attending": attending,
        "student": student,
        "newcomer": newcomer,
        "paths": {
            # Log in, sign up and the rest are found by the crawl from the home page.
            "anonymous": [
                school_link,
                school_payment_link,
                simulated_pay_page,
            ],
            "student": [
                f"/rotations/{approved.pk}/",
                f"/rotations/{completed.pk}/",
                f"/rotations/{approved.pk}/immigration-letter/",
                f"/attendings/{attending.pk}/",
                f"/letters/{letter.pk}/",
                f"/support/{ticket.pk}/",
                "/support/new/",
                "/letters/request/",
                "/payments/card/",
                "/profile/",
            ],
            "attending": [
                f"/rotations/{requested.pk}/",
                f"/rotations/{approved.pk}/",
                f"/letters/{letter.pk}/",
                "/attending/availability/",
                "/attending/profile/",
                "/documents/my-requirements/",
            ],
            "new student": ["/profile/"],
            "admin": [
                f"/manage/verification/{pending.profile.pk}/",
                f"/students/{student.profile.pk}/",
                f"/support/{ticket.pk}/",
                f"/payments/students/{student.pk}/",
                f"/payments/installments/{installment.pk}/record/",
                f"/rotations/{approved.pk}/",
                "/manage/attendings/",
                "/documents/review/",
                "/documents/settings/",
                "/payments/due/",
            ],
        },
    }


def test_every_page_fits_a_phone_and_passes_axe(site, world, browser):
    base = site["url"]
    # The brief's four roles, plus a new student: only they see the profile form.
    roles = [
        ("anonymous", None, "", ["/"]),
        ("student", world["student"].user.email, "", ["/dashboard/"]),
        ("attending", world["attending"].membership.user.email, "", ["/dashboard/"]),
        ("admin", world["admin"].user.email, factories.TOTP_SECRET, ["/dashboard/"]),
        ("new student", world["newcomer"].user.email, "", ["/dashboard/"]),
    ]
    failures: list[str] = []
    for role, email, totp_secret, start in roles:
        context = browser.new_context(viewport=PHONE)
        if email:
            log_in(context.new_page(), base, email, totp_secret=totp_secret)
        crawl = Crawl(context, base, role)
        crawl.run(start, world["paths"][role])
        # The crawl reached beyond its fixed list: the page list builds itself.
        assert len(crawl.visited) > len(world["paths"][role]), (role, crawl.visited)
        print(f"{role}: {len(crawl.visited)} pages at 390 px:", *crawl.visited, sep="\n  ")
        failures.extend(crawl.failures)
        context.close()
    assert not failures, f"{len(failures)} problems at 390 px:\n" + "\n".join(failures)


def test_phone_menu_opens_and_closes_from_the_keyboard_and_desktop_keeps_the_bar(
    site, world, browser
):
    """Below 900 px the main navigation folds behind a menu button whose aria-expanded
    tells its state; Enter opens it, Escape closes it and returns focus to the button.
    On a desktop the navigation is the horizontal bar and there is no button."""
    base = site["url"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, base, world["student"].user.email)
    menu = page.get_by_role("button", name="Menu")
    rotations = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Rotations", exact=True
    )

    assert menu.get_attribute("aria-expanded") == "false"
    assert not rotations.is_visible()
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert rotations.is_visible()
    box = rotations.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert serious_axe_violations(page) == []
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not rotations.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-button')")
    menu.click()
    rotations.click()
    page.wait_for_url(f"{base}/rotations/")

    page.set_viewport_size({"width": 1280, "height": 800})
    assert not menu.is_visible()
    assert rotations.is_visible()
    dashboard = page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")
    # The bar: links side by side on one line, not a column.
    assert dashboard.bounding_box()["y"] == rotations.bounding_box()["y"]
    context.close()
