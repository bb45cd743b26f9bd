"""The archive itself, in process on the SQLite test database: what the manifest says, what a
missing upload does, sealing round trips (the full drill on both engines is in test_backup)."""

import io
import json
import tarfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from lixiao.objections.models import Objection
from lixiao.ops import archive, sealing
from tests.conftest import record

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="in process on SQLite; PostgreSQL's pg_dump sees committed data only (test_backup)",
)


@pytest.fixture
def committed(live_db, media):
    """Committed data: the backup API copies what is committed (inside the test's transaction
    it would wait for that transaction forever); emptied afterwards as every live test is."""


def _message(uni, data: bytes) -> Objection:
    objection = Objection(
        form=uni.form, record=record(uni.form, "图书馆"), step=record(uni.form, "图书馆").step,
        student=uni.student.user, kind="done", message="已还书", attachment_type="png",
    )  # fmt: skip
    objection.attachment.save("upload", ContentFile(data), save=False)
    objection.save()
    return objection


def test_the_manifest_describes_the_snapshot_and_a_missing_upload_is_reported(
    committed, uni, tmp_path
):
    kept = _message(uni, b"\x89PNG kept")
    lost = _message(uni, b"\x89PNG lost")
    default_storage.delete(lost.attachment.name)
    created = archive.create(tmp_path / "a.backup", connection)
    manifest = created.manifest
    assert (
        manifest["lixiao_version"] == archive.version()
        and manifest["database"]["vendor"] == "sqlite"
    )
    assert "clearance.0001_initial" in manifest["migrations"]
    assert (
        manifest["tables"]["directory_student"] == 3 and manifest["tables"]["clearance_form"] == 3
    )
    assert [f["name"] for f in manifest["files"]] == [kept.attachment.name]
    assert created.missing == [lost.attachment.name] == manifest["missing_files"]
    with tarfile.open(created.path) as tar:
        names = tar.getnames()
        assert names[-1] == "manifest.json" and f"files/{kept.attachment.name}" in names
        assert tar.extractfile(f"files/{kept.attachment.name}").read() == b"\x89PNG kept"
        assert json.load(tar.extractfile("manifest.json")) == manifest


def test_sealing_round_trips_at_chunk_edges_and_refuses_a_changed_chunk(tmp_path):
    for size in (0, 1, sealing.CHUNK - 1, sealing.CHUNK, sealing.CHUNK + 1, 2 * sealing.CHUNK):
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        raw = io.BytesIO()
        raw.close = lambda: None  # keep the buffer readable after the writer closes it
        writer = sealing.SealedWriter(raw, "pass phrase")
        writer.write(data)
        writer.close()
        sealed = tmp_path / f"{size}.sealed"
        sealed.write_bytes(raw.getvalue())
        sealing.unseal_file(sealed, tmp_path / "out", "pass phrase")
        assert (tmp_path / "out").read_bytes() == data, size
    changed = bytearray(sealed.read_bytes())
    changed[-5] ^= 1
    sealed.write_bytes(bytes(changed))
    with pytest.raises(sealing.SealError):
        sealing.unseal_file(sealed, tmp_path / "out", "pass phrase")
    # Dropping the last chunk is noticed too (the one before it is not marked last).
    sealed.write_bytes(bytes(changed[: -(len(changed) - sealing.HEADER_BYTES) // 2]))
    with pytest.raises(sealing.SealError):
        sealing.unseal_file(sealed, tmp_path / "out", "pass phrase")
