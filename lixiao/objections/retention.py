"""The retention purge's part here: a purged student's messages, replies and attachments go.

The objection rows stay, without their words or files, so the desk's counts (how many were
raised, confirmed, dismissed) still add up.
"""

from lixiao.clearance import hooks
from lixiao.objections.models import Objection


def personal_data_purged(announced: hooks.PersonalDataPurged) -> None:
    objections = Objection.objects.filter(form_id__in=announced.forms.values("id"))
    with_files = objections.exclude(attachment="")
    announced.count("messages", objections.count())
    announced.count("attachments", with_files.count())
    if announced.dry_run:
        return
    # Through the storage API; deleted before the purge commits (see clearance.services.purge).
    for objection in with_files.only("id", "attachment"):
        objection.attachment.delete(save=False)
    objections.update(message="", reply="", attachment="", attachment_name="", attachment_type="")
