"""The retention purge's part here: login records (django-axes) under a purged student's 学号."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog

from lixiao.clearance import hooks


def personal_data_purged(announced: hooks.PersonalDataPurged) -> None:
    usernames = announced.students.values("user__username")
    removed = 0
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        rows = model.objects.filter(username__in=usernames)
        removed += rows.count() if announced.dry_run else rows.delete()[0]
    announced.count("login_records", removed)
