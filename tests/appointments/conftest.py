"""Appointment helpers: a plan on 学生公寓 open every day, and moments of today and tomorrow."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from lixiao.appointments import services
from lixiao.appointments.services import PlanData
from lixiao.clearance.models import Step
from lixiao.clearance.services import Actor

ALL_DAY = [(time(0, 0), time(23, 30))]


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A moment of today (0), tomorrow (1) … in the site's time zone."""
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def make_plan(
    uni, title="学生公寓", capacity=2, minutes=30, hours=None, days_ahead=7, enabled=True, closed=()
):
    step = Step.objects.get(category=uni.category, title=title)
    data = PlanData(
        enabled=enabled,
        slot_minutes=minutes,
        capacity=capacity,
        days_ahead=days_ahead,
        hours=[list(hours or ALL_DAY)] * 7,
        closed_dates=list(closed),
    )
    return services.save_plan(Actor(uni.office, "admin"), uni.batch, step, data)


def student(user) -> Actor:
    return Actor(user, services.PORTAL, client_ip="10.9.8.7")


@pytest.fixture
def plan(uni):
    return make_plan(uni)
