"""A Django storage that keeps files in the database, so every app node reads what any node wrote.

Why the database and not an object store: Lixiao's files are uploads capped at LIXIAO_UPLOAD_MAX_MB
(roster and status imports, a student's attachment) — exports are built per request and never
stored. The university already runs, backs up and restores PostgreSQL, so the files ride in the
same backup, commit in the same transaction as the row that names them, and need no further
service to install, secure and monitor (docs/install.md).
"""

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils.deconstruct import deconstructible


@deconstructible
class DatabaseStorage(Storage):
    def _model(self):
        from lixiao.infra.models import StoredFile

        return StoredFile

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode:
            raise ValueError(
                "files in the database are written with save(), not opened for writing"
            )
        row = self._model().objects.filter(name=name).values_list("content", flat=True).first()
        if row is None:
            raise FileNotFoundError(f"no stored file named {name!r}")
        return ContentFile(bytes(row), name=name)

    def _save(self, name, content):
        data = b"".join(content.chunks()) if hasattr(content, "chunks") else content.read()
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    self._model().objects.create(name=name, content=data, size=len(data))
                return name
            except IntegrityError:
                # Another node saved the same name between get_available_name and here.
                name = self.get_available_name(name)
        raise IntegrityError(f"could not find a free name for {name!r}")

    def delete(self, name):
        self._model().objects.filter(name=name).delete()

    def exists(self, name):
        return self._model().objects.filter(name=name).exists()

    def size(self, name):
        size = self._model().objects.filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(f"no stored file named {name!r}")
        return size

    def listdir(self, path):
        prefix = path.rstrip("/") + "/" if path else ""
        dirs, files = set(), []
        for name in (
            self._model().objects.filter(name__startswith=prefix).values_list("name", flat=True)
        ):
            rest = name[len(prefix) :]
            if "/" in rest:
                dirs.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(dirs), sorted(files)

    def get_created_time(self, name):
        return self._model().objects.values_list("created_at", flat=True).get(name=name)

    get_modified_time = get_created_time

    def url(self, name):
        # Files are served by views that check who may read them, never by a public URL.
        raise NotImplementedError("stored files are served by views that check access")
