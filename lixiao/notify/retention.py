"""The retention purge's part here: a purged student's notifications and reminder marks go."""

from lixiao import sqlbulk
from lixiao.clearance import hooks
from lixiao.notify.models import DeadlineReminder, Notification


def personal_data_purged(announced: hooks.PersonalDataPurged) -> None:
    removed = 0
    for part in sqlbulk.chunks(list(announced.user_ids)):
        notifications = Notification.objects.filter(user_id__in=part)
        reminders = DeadlineReminder.objects.filter(user_id__in=part)
        if announced.dry_run:
            removed += notifications.count()
            continue
        removed += notifications.delete()[0]
        reminders.delete()
    announced.count("notifications", removed)
