"""Student pages: the departure form (离校单), and the bench's baseline page."""

from django.shortcuts import render

from lixiao.accounts.roles import role_required
from lixiao.clearance.models import Step
from lixiao.portal import page_cache, pages


@role_required("student")
def home(request):
    # The personal data is rendered fresh on every request; the forms section (the costly
    # part) comes from page_cache, keyed by the versions read in this one query.
    forms = pages.student_forms(request.user)
    student = forms[0].student if forms else request.user.student
    section = page_cache.forms_section(request.user, forms)
    return render(request, "portal/home.html", {"student": student, "forms_section": section})


@role_required("student")
def bench_baseline(request):
    """Only with LIXIAO_BENCH=1 (bench/http_load.py): one template, one indexed 12-row query."""
    steps = list(Step.objects.filter(category_id=1).order_by("order", "id")[:12])
    return render(request, "portal/bench_baseline.html", {"steps": steps})
