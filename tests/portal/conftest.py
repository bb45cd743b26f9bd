"""Portal helpers: a complete student on the shared university, source rows, upload files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lixiao.clearance import services
from lixiao.clearance.models import Form, Record, State
from lixiao.integrations.models import IntegrationSource, SourceRow
from tests import factories as f

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(autouse=True)
def _media(media):
    """Attachments of every portal test go to a throwaway folder."""


def complete_form(uni, number="2022000002", name="陈小明") -> Form:
    """A CS student whose every applicable step is passed (so the form is complete)."""
    form = f.enrolled(uni.batch, number, name, uni.cs, counselor=uni.counselor_cs)
    f.pass_prerequisites(form, uni.office)
    final = Record.objects.get(form=form, step__is_final=True)
    services.pass_record(services.Actor(uni.office, "admin"), final.id)
    form.refresh_from_db()
    assert form.completed_at is not None
    return form


def library_row(number: str, cleared=False, reason="未还图书 2 册"):
    source = IntegrationSource.objects.get(code="library")
    now = timezone.now()
    return SourceRow.objects.create(
        source=source,
        student_number=number,
        cleared=cleared,
        reason=reason,
        updated_at=now,
        checked_at=now,
    )


def upload(data=PNG, name="receipt.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


__all__ = ["PDF", "PNG", "State", "complete_form", "library_row", "upload"]
