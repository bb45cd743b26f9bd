"""Reads about sources for every surface: who may manage which source, and how fresh the data is."""

from django.db.models import QuerySet

from lixiao.clearance import scope
from lixiao.integrations.models import IntegrationSource, SourceRow, SyncRun


def manageable_sources(user) -> QuerySet[IntegrationSource]:
    """The office manages every source; a handler those feeding a step they hold a grant on."""
    if scope.is_office(user):
        return IntegrationSource.objects.all()
    day = scope.today()
    steps = {g.step_id for g in scope.person_grants(user) if scope.in_force(g, day)}
    return IntegrationSource.objects.filter(steps__in=steps).distinct()


def freshness(source_ids) -> dict[int, object]:
    """When each source last received data (push, upload or pull); None if never."""
    return dict(
        IntegrationSource.objects.filter(pk__in=list(source_ids)).values_list("pk", "data_at")
    )


def form_freshness(form) -> dict[int, dict]:
    """Per automatic step of one form: its source's name, last data and this student's row time.

    For the portal and the desk: {step id: {"source": name, "data_at": …, "row_at": …}}.
    """
    steps = [s for s in form.batch.category.steps.all() if s.automatic and s.source_id]
    if not steps:
        return {}
    sources = {
        s.pk: s for s in IntegrationSource.objects.filter(pk__in={s.source_id for s in steps})
    }
    number = form.student.student_number
    rows = dict(
        SourceRow.objects.filter(source_id__in=list(sources), student_number=number).values_list(
            "source_id", "checked_at"
        )
    )
    return {
        s.id: {
            "source": sources[s.source_id].name,
            "data_at": sources[s.source_id].data_at,
            "row_at": rows.get(s.source_id),
        }
        for s in steps
    }


def recent_runs(source: IntegrationSource, limit: int = 20) -> list[SyncRun]:
    return list(source.runs.select_related("started_by")[:limit])


def counts(source: IntegrationSource) -> dict:
    rows = SourceRow.objects.filter(source=source)
    return {"rows": rows.count(), "cleared": rows.filter(cleared=True).count()}
