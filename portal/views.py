"""The member's dashboard: each app's part of it, side by side (STYLE §1).

Accounts says what it knows (the verification queue, the student's profile), rotations
its rotations, documents what is missing and what waits for review; payments (invoices)
add theirs here as they arrive; letters their open requests and the letters an attending
owes; the planner the student's next season deadline. Thin: gather → render (STYLE §2).
"""

from django.shortcuts import render

from accounts.views import dashboard_accounts
from documents.pages import dashboard_documents
from lor.pages import dashboard_letters
from lor.planner_pages import dashboard_planner
from rotations.views import dashboard_rotations
from usdoctors.views import member_required

DASHBOARD_TEMPLATES = {
    "student": "dashboard/student.html",
    "attending": "dashboard/attending.html",
    "admin": "dashboard/admin.html",
}


@member_required()
def dashboard(request):
    membership = request.membership
    context = {
        **dashboard_accounts(membership),
        **dashboard_rotations(membership),
        **dashboard_documents(membership),
        **dashboard_letters(membership),
        **dashboard_planner(membership),
    }
    return render(request, DASHBOARD_TEMPLATES[membership.role], context)
