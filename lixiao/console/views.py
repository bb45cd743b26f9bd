"""Supervising office pages: the batches and their completion."""

from django.shortcuts import render

from lixiao.accounts.roles import role_required
from lixiao.clearance import queries
from lixiao.clearance.models import Batch


@role_required("office", "auditor")
def home(request):
    rows = []
    for batch in Batch.objects.select_related("category").order_by("-opens_at"):
        colleges = queries.college_statistics(batch)
        total = sum(c["total"] for c in colleges)
        done = sum(c["done"] for c in colleges)
        rows.append({"batch": batch, "total": total, "done": done,
                     "percent": round(100 * done / total, 1) if total else 0})
    return render(request, "console/home.html", {"rows": rows})
