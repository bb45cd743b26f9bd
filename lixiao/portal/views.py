"""Student pages: the departure form (离校单)."""

from django.shortcuts import render

from lixiao.accounts.roles import role_required
from lixiao.clearance import queries


@role_required("student")
def home(request):
    forms = list(queries.with_records(queries.student_forms(request.user).order_by("-batch__opens_at")))
    cards = [{"form": f, "progress": queries.progress(f), "window": f.batch.window_state()} for f in forms]
    return render(request, "portal/home.html", {"cards": cards, "student": request.user.student})
