"""Upgrade from the previous release (v0.1.0): its own code migrates and seeds the demo into a
database, this checkout migrates it to head, and every row survives and the demo still works.

The previous release's code is taken from git (`git archive v0.1.0`, or its commit when the tag
is missing) into a temporary directory and run there, with this checkout's virtualenv; then
this checkout's manage.py migrates the same database. Runs on the engine of this test run.
"""

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "v0.1.0"
RELEASE_COMMIT = "88dceb376812a0ba271ea6f7d9e910677d788f23"
# Keys fixed for both runs: the old release seals ID numbers with it, this code must open them.
KEYS = {"SECRET_KEY": "upgrade-test-secret-" + "s" * 40, "LIXIAO_ID_KEY": "upgrade-id-" + "i" * 40}

# Tables whose every row must come through the upgrade, column by column (columns the old
# release had), under their new name when a migration renamed them (RENAMED). A later migration that deliberately rewrites stored values adds an entry to
# TRANSFORMED: {(table, column): function(old value) -> expected new value}.
TABLES = [
    "directory_user", "directory_student", "directory_staff", "directory_college",
    "directory_department", "clearance_category", "clearance_step", "clearance_batch",
    "clearance_grant", "clearance_form", "clearance_record", "clearance_event",
    "clearance_steptally", "clearance_formtally", "integrations_integrationsource",
    "integrations_sourcerow", "notify_notification", "objections_objection",
    "console_changerequest",
]  # fmt: skip
TRANSFORMED: dict[tuple[str, str], object] = {}
# What the demo lacks, added with the old release's own models: change requests (whose table
# a later migration renamed).
OLD_EXTRAS = """
from lixiao.clearance.models import Category
from lixiao.console.models import ChangeRequest
from lixiao.directory.models import Department, User
library = User.objects.get(username="library")
for category in Category.objects.order_by("id"):
    ChangeRequest.objects.create(category=category, kind="add", title="校医院体检档案", owner_type="department",
        department=Department.objects.order_by("id").first(), reason="新增体检档案交接", requested_by=library)
"""
# Tables a migration renamed (the rows must follow): old name → new name.
RENAMED = {"console_changerequest": "clearance_changerequest"}


def _git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, timeout=120)


def previous_release(into: Path) -> Path:
    """The release's source tree, from the tag or else its commit; skip only without git history."""
    try:
        inside = _git("rev-parse", "--is-inside-work-tree")
    except FileNotFoundError:
        pytest.skip(
            "git is not installed: the previous release's code cannot be taken from history"
        )
    if inside.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: the previous release's code is not available")
    for ref in (RELEASE, RELEASE_COMMIT):
        if _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0:
            archive = _git("archive", "--format=tar", ref)
            assert archive.returncode == 0, archive.stderr.decode()
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(into, filter="data")
            return into
    pytest.skip(
        f"neither the tag {RELEASE} nor commit {RELEASE_COMMIT[:7]} is in this clone's history "
        "(a shallow clone?): run `git fetch --tags --unshallow` to test the upgrade"
    )


def _same(place, table: str, before: list[dict], after: list[dict]) -> None:
    assert len(after) == len(before), f"{table}: {len(before)} rows before, {len(after)} after"
    for old, new in zip(before, after, strict=True):
        for column, value in old.items():
            expected = TRANSFORMED.get((table, column), lambda v: v)(value)
            assert new[column] == expected, f"{table} id {old.get('id')}: {column} changed"


def test_the_previous_release_upgrades_with_its_demo_data(tmp_path, places):
    old_code = previous_release(tmp_path / "release")
    place = places("upgrade")
    old = {"cwd": old_code, "PYTHONPATH": str(old_code), **KEYS}
    # The old code really is the one running (not this checkout through the virtualenv).
    where = place.manage("shell", "-c", "import lixiao; print(lixiao.__file__)", **old)
    assert str(old_code) in where.stdout, where.stdout + where.stderr
    for step in (("migrate", "--no-input"), ("seed_demo",), ("shell", "-c", OLD_EXTRAS)):
        result = place.manage(*step, **old)
        assert result.returncode == 0, result.stdout + result.stderr
    before = {table: place.rows(table) for table in TABLES}
    assert len(before["directory_student"]) > 2000 and before["clearance_event"]
    assert before["console_changerequest"]
    old_tables = place.table_names()

    upgraded = place.manage("migrate", "--no-input", **KEYS)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert place.manage("migrate", "--check", **KEYS).returncode == 0  # nothing left unapplied
    assert {RENAMED.get(t, t) for t in old_tables} <= place.table_names()
    for table in TABLES:
        _same(place, table, before[table], place.rows(RENAMED.get(table, table)))

    checks = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from tests.ops import upgrade_checks as u; u.run()"],
        cwd=ROOT, env=place.env(**KEYS), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert checks.returncode == 0, checks.stdout + checks.stderr
    assert "upgrade: ok" in checks.stdout
