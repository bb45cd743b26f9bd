"""Objections and "I have done this": the student submits, a handler of the step replies,
confirms (the step passes through the one writer) or dismisses. Scope comes from the gate.
"""

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lixiao.clearance import scope
from lixiao.clearance import services as clearance
from lixiao.clearance.models import Form, Record, Source, State
from lixiao.clearance.rules import Refused
from lixiao.notify import services as notify
from lixiao.objections.models import Objection

MAX_BYTES = 5 * 1024 * 1024
MAX_MESSAGE = 500
# Open messages one student may have on one step: enough to follow up, not enough to flood a desk.
MAX_OPEN_PER_RECORD = 5
# Types are decided by the first bytes of the file, never by its name or the browser's claim.
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"%PDF-", "pdf"),
)
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "pdf": "application/pdf"}
NotFound = clearance.NotFound


def sniff(head: bytes) -> str | None:
    """'png', 'jpeg' or 'pdf' from a file's first bytes; None for anything else."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


def read_upload(upload) -> tuple[bytes, str]:
    """The upload's bytes and type, or Refused with a sentence the student can act on."""
    too_large = _("附件不能超过 %(mb)s MB，请压缩后重新上传") % {"mb": MAX_BYTES // (1024 * 1024)}
    if upload.size is not None and upload.size > MAX_BYTES:
        raise Refused(too_large, "too_large")
    data = b"".join(upload.chunks())
    if len(data) > MAX_BYTES:
        raise Refused(too_large, "too_large")
    if not data:
        raise Refused(_("附件是空文件，请重新选择"), "empty")
    kind = sniff(data[:16])
    if kind is None:
        raise Refused(_("附件只能是图片（PNG、JPEG）或 PDF 文件"), "bad_type")
    return data, kind


def student_objections(user):
    """Objections on the student's own forms (the same gate as the form itself)."""
    return Objection.objects.filter(form__in=scope.student_forms(user))


def handler_objections(reach: scope.Reach):
    """Objections on the person's steps in one batch, on forms where they may handle that step."""
    by_step = Q(pk__in=[])
    for step in reach.steps:
        forms = Form.objects.filter(reach.handle_filter(step)).values("id")
        by_step |= Q(step=step, form__in=forms)
    return Objection.objects.filter(by_step)


def submit(student_user, record: Record, kind: str, message: str, upload=None) -> Objection:
    """Store a student's message on one of their own steps and tell the step's handlers."""
    form = (
        scope.student_forms(student_user)
        .filter(pk=record.form_id)
        .select_related("batch", "student")
        .first()
    )
    if form is None:
        raise NotFound
    step = record.step
    if kind not in Objection.Kind.values:
        raise Refused(_("请选择“异议”或“我已办理”"), "bad_kind")
    if record.state == State.NOT_REQUIRED:
        raise Refused(
            _("“%(step)s”对您无需办理，不能提交") % {"step": step.title}, "not_applicable"
        )
    if kind == Objection.Kind.DONE and record.state == State.PASSED:
        raise Refused(_("“%(step)s”已经办理，无需再申报") % {"step": step.title}, "already_passed")
    if form.batch.archived_at is not None:
        clearance.require_writable(form.batch)  # says why: the batch is archived
    if form.batch.window_state() != "open":
        raise Refused(_("本批次不在办理时间内，不能提交"), "window")
    message = (message or "").strip()
    if not message:
        raise Refused(_("请写下留言内容"), "empty_message")
    if len(message) > MAX_MESSAGE:
        raise Refused(_("留言不能超过 %(max)s 字") % {"max": MAX_MESSAGE}, "long_message")
    open_count = Objection.objects.filter(
        record=record, status__in=[Objection.Status.OPEN, Objection.Status.REPLIED]
    ).count()
    if open_count >= MAX_OPEN_PER_RECORD:
        raise Refused(_("该环节已有多条留言待处理，请等待办理人员答复"), "too_many")
    objection = Objection(
        form=form, record=record, step=step, student=student_user, kind=kind, message=message
    )
    if upload is not None:
        data, kind_of_file = read_upload(upload)
        objection.attachment_type = kind_of_file
        objection.attachment_name = (getattr(upload, "name", "") or "")[-120:]
        # Saved through the storage API (any backend), under a random name: see attachment_path.
        objection.attachment.save("upload", ContentFile(data), save=False)
    with transaction.atomic():
        objection.save()
        clearance.forms_changed([form.id])  # the student's page lists the message
        # Notifications are stored and read later: written in the site's language, not the sender's.
        with translation.override(settings.LANGUAGE_CODE):
            label = str(objection.get_kind_display())
        notify.send(
            list(
                scope.handlers(form.batch, step.id, [(form.id, form.college_id, form.counselor_id)])
            ),
            f"{form.student.name}（{form.student.student_number}）对“{step.title}”提交了{label}",
            message,
            link=reverse("desk:home"),
        )
    return objection


def _check_handler(handler, objection: Objection) -> Objection:
    """The objection, locked, if the person may handle its step on its form; NotFound otherwise."""
    found = Objection.objects.select_related("form__batch").filter(pk=objection.pk).first()
    if found is None:
        raise NotFound
    reach = scope.reach(handler, found.form.batch_id)
    form = found.form
    if reach is None or not reach.may_handle(found.step_id, form.college_id, form.counselor_id):
        raise NotFound
    # An archived batch's messages stay as archived; its share lock comes before the row's
    # (the writer's order), so a purge of the batch never deadlocks with an answer.
    clearance.require_writable(form.batch)
    return (
        Objection.objects.select_for_update(of=("self",))
        .select_related("form__batch", "step", "record")
        .get(pk=found.pk)
    )


def _tell_student(objection: Objection, title: str, body: str) -> None:
    notify.send([objection.student_id], title, body, link=reverse("portal:home"))


def reply(handler, objection: Objection, text: str) -> Objection:
    text = (text or "").strip()
    if not text:
        raise Refused(_("请填写答复内容"), "empty_reply")
    with transaction.atomic():
        objection = _check_handler(handler, objection)
        if not objection.is_open:
            raise Refused(_("该留言已处理完毕"), "closed")
        objection.reply = text[:2000]
        objection.replied_at = timezone.now()
        objection.handled_by = handler
        objection.status = Objection.Status.REPLIED
        objection.save(update_fields=["reply", "replied_at", "handled_by", "status"])
        clearance.forms_changed([objection.form_id])
        _tell_student(objection, f"“{objection.step.title}”的留言有了答复", objection.reply)
    return objection


def confirm(handler, objection: Objection, client_ip: str | None = None) -> Objection:
    """Accept the student's word: the step passes through the one writer (source desk)."""
    with transaction.atomic():
        objection = _check_handler(handler, objection)
        if not objection.is_open:
            raise Refused(_("该留言已处理完毕"), "closed")
        if objection.record.state != State.PASSED:
            # Refused (window, final gate, not applicable) propagates: nothing is marked.
            clearance.set_state(
                clearance.Actor(user=handler, source=Source.DESK, client_ip=client_ip),
                objection.record_id,
                State.PASSED,
                "已核实异议",
            )
        objection.status = Objection.Status.CONFIRMED
        objection.handled_by = handler
        objection.replied_at = timezone.now()
        if not objection.reply:
            objection.reply = "已核实，环节已办理通过"
        objection.save(update_fields=["status", "handled_by", "replied_at", "reply"])
        clearance.forms_changed([objection.form_id])
        _tell_student(objection, f"“{objection.step.title}”已核实通过", objection.reply)
    return objection


def dismiss(handler, objection: Objection, reason: str) -> Objection:
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("请说明不予采纳的原因"), "empty_reason")
    with transaction.atomic():
        objection = _check_handler(handler, objection)
        if not objection.is_open:
            raise Refused(_("该留言已处理完毕"), "closed")
        objection.status = Objection.Status.DISMISSED
        objection.handled_by = handler
        objection.reply = reason[:2000]
        objection.replied_at = timezone.now()
        objection.save(update_fields=["status", "handled_by", "reply", "replied_at"])
        clearance.forms_changed([objection.form_id])
        _tell_student(objection, f"“{objection.step.title}”的留言未予采纳", objection.reply)
    return objection
