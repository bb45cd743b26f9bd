"""Files kept in the database: what one node saves, any node reads, through Django's storage API."""

import pytest
from django.core.files.base import ContentFile

from lixiao.infra.models import StoredFile
from lixiao.infra.storage import DatabaseStorage

pytestmark = pytest.mark.django_db


def test_a_saved_file_reads_back_from_a_fresh_storage_object():
    name = DatabaseStorage().save("imports/2026/06/名单.xlsx", ContentFile(b"PK\x03\x04 roster"))
    other_node = DatabaseStorage()
    assert other_node.exists(name)
    with other_node.open(name) as fh:
        assert fh.read() == b"PK\x03\x04 roster"
    assert other_node.size(name) == len(b"PK\x03\x04 roster")


def test_the_same_name_twice_keeps_both_files():
    storage = DatabaseStorage()
    first = storage.save("attachments/收据.pdf", ContentFile(b"one"))
    second = storage.save("attachments/收据.pdf", ContentFile(b"two"))
    assert first != second
    assert storage.open(first).read() == b"one" and storage.open(second).read() == b"two"
    assert storage.listdir("attachments") == (
        [],
        sorted([first.split("/")[1], second.split("/")[1]]),
    )


def test_delete_and_a_missing_file():
    storage = DatabaseStorage()
    name = storage.save("x/a.csv", ContentFile(b"a"))
    storage.delete(name)
    assert not storage.exists(name) and not StoredFile.objects.exists()
    with pytest.raises(FileNotFoundError):
        storage.open(name)


def test_an_import_upload_goes_to_the_database_when_configured(uni, settings):
    from django.core.files.storage import storages

    from lixiao.tabular.models import ImportJob

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "lixiao.infra.storage.DatabaseStorage"},
    }
    storages._storages.pop("default", None)
    try:
        field = ImportJob._meta.get_field("file")
        field.storage = storages["default"]
        job = ImportJob(kind="roster", created_by=uni.office, filename="名单.csv")
        job.file.save("名单.csv", ContentFile("学号\n2022000001\n".encode()), save=True)
        assert StoredFile.objects.filter(name=job.file.name).exists()
        fresh = ImportJob.objects.get(pk=job.pk)
        with fresh.file.open("rb") as fh:
            assert fh.read().decode() == "学号\n2022000001\n"
    finally:
        from django.core.files.storage import default_storage

        storages._storages.pop("default", None)
        field.storage = default_storage
