"""The desk shows when an automatic step's data last arrived, and says so when none has."""

from django.utils import timezone

from lixiao.integrations.models import IntegrationSource, SourceRow
from tests.desk.conftest import desk_url


def test_detail_shows_the_students_source_row_time_or_its_absence(uni, as_user):
    client = as_user(uni.library)
    page = client.get(desk_url(uni.batch, f"f/{uni.form.id}/")).content.decode()
    assert "该生数据尚未收到（不会自动通过）" in page
    at = timezone.now()
    SourceRow.objects.create(
        source=IntegrationSource.objects.get(code="library"),
        student_number=uni.student.student_number,
        cleared=False,
        reason="未还图书 2 册",
        updated_at=at,
        checked_at=at,
    )
    page = client.get(desk_url(uni.batch, f"f/{uni.form.id}/")).content.decode()
    assert f"该生数据更新于 {timezone.localtime(at):%Y-%m-%d %H:%M}" in page
