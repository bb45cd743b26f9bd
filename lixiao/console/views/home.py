"""Supervising office pages: the batches and their completion."""

from django.shortcuts import render

from lixiao.clearance import queries
from lixiao.clearance.models import Batch
from lixiao.console.access import office_view


@office_view
def home(request):
    batches = list(Batch.objects.select_related("category").order_by("-opens_at"))
    completion = queries.batch_completion(batches)  # one query for every batch's counts
    rows = []
    for batch in batches:
        total, done = completion.get(batch.id, (0, 0))
        rows.append(
            {
                "batch": batch,
                "total": total,
                "done": done,
                "percent": round(100 * done / total, 1) if total else 0,
            }
        )
    return render(request, "console/home.html", {"rows": rows})
