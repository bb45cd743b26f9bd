"""Typed readers of environment variables (with *_FILE for secrets)."""

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def text(name: str, default: str | None = None) -> str | None:
    """A variable's value; NAME_FILE (a path) wins so secrets stay out of the environment."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE={path} cannot be read: {exc.strerror}"
            ) from None
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def flag(name: str, default: bool = False) -> bool:
    value = text(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} must be one of 1/0, true/false, yes/no, on/off")


def integer(name: str, default: int) -> int:
    value = text(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} must be a whole number") from None


def number(name: str, default: float) -> float:
    value = text(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} must be a number") from None


def items(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in (text(name) or default).split(",") if part.strip()]


def secrets(name: str, default: str = "") -> list[str]:
    """Several secrets, newest first: separated by commas, spaces or lines (a *_FILE may hold
    one per line)."""
    return [part for part in re.split(r"[,\s]+", text(name) or default) if part]


def required(name: str, why: str) -> str:
    value = text(name)
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: {why}")
    return value
