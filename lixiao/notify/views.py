"""The inbox (站内通知): the list, the bell's unread count, and marking read."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lixiao.notify import services
from lixiao.notify.models import Notification


@login_required
def inbox(request):
    page = Paginator(Notification.objects.filter(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request, "notify/inbox.html", {"page": page, "unread": services.unread_count(request.user)}
    )


@login_required
def bell(request):
    return render(
        request, "notify/_bell_count.html", {"unread": services.unread_count(request.user)}
    )


@require_POST
@login_required
def mark_read(request, notification_id: int):
    # Only the person's own notifications match, so another's id changes nothing.
    services.mark_read(request.user, notification_id)
    return redirect("notify:inbox")


@require_POST
@login_required
def mark_all_read(request):
    services.mark_read(request.user)
    return redirect("notify:inbox")
