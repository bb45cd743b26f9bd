"""The retention purge's part here: a purged student's notifications and reminder marks go."""

from lixiao.clearance import hooks
from lixiao.notify.models import DeadlineReminder, Notification


def personal_data_purged(announced: hooks.PersonalDataPurged) -> None:
    users = announced.students.values("user_id")
    notifications = Notification.objects.filter(user_id__in=users)
    if announced.dry_run:
        announced.count("notifications", notifications.count())
        return
    announced.count("notifications", notifications.delete()[0])
    DeadlineReminder.objects.filter(user_id__in=users).delete()
