"""Handler pages (现场办理): the batches and steps a person handles, with their statistics."""

from django.shortcuts import render

from lixiao.accounts.roles import role_required
from lixiao.clearance import queries, scope


@role_required("department", "counselor", "office")
def home(request):
    batches = list(scope.handler_batches(request.user).select_related("category"))
    panels = [
        {"batch": b, "stats": queries.step_statistics(request.user, b)} for b in batches
    ]
    return render(request, "desk/home.html", {"panels": panels})
