"""Student pages: the departure form (离校单), and the bench's baseline page."""

from django.shortcuts import render

from lixiao.accounts.roles import role_required
from lixiao.clearance.models import Step
from lixiao.portal import pages


@role_required("student")
def home(request):
    forms = pages.student_page(request.user)
    student = forms[0].form.student if forms else request.user.student
    return render(request, "portal/home.html", {"forms": forms, "student": student})


@role_required("student")
def bench_baseline(request):
    """Only with LIXIAO_BENCH=1 (bench/http.py): one template, one indexed 12-row query."""
    steps = list(Step.objects.filter(category_id=1).order_by("order", "id")[:12])
    return render(request, "portal/bench_baseline.html", {"steps": steps})
