"""A media folder on a nearly full disk, for tests/courses/test_fault_disk.py.

The real thing where the test may mount a filesystem (root with the right to
mount, as on the CI's machine): a small tmpfs, filled until less room is left
than a certificate's PDF needs, so the kernel stops the write part-way with
ENOSPC. Elsewhere (an unprivileged container) the same as near as a test can
get without one: FillingStorage writes the first bytes of a file, then raises
the kernel's error, leaving the part written on disk as a full disk does.
"""

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

#: Bytes of a file written before the simulated disk is full (a PDF is larger).
ROOM = 8 * 1024


class _StopsWhenFull(ContentFile):
    """Content whose writing stops after ROOM bytes with ENOSPC."""

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        self.seek(0)
        yield self.read(ROOM)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FillingStorage(FileSystemStorage):
    """FileSystemStorage on a disk that is full while `full` is True."""

    full = False

    def save(
        self, name: str | None, content: IO[Any], max_length: int | None = None
    ) -> str:
        if FillingStorage.full:
            content = _StopsWhenFull(content.read())
        return super().save(name, content, max_length=max_length)


class NearlyFullDisk:
    """MEDIA_ROOT on a disk with too little room for a PDF; free() makes room."""

    def __init__(self, root: Path, settings: Any) -> None:
        self.root = root
        root.mkdir()
        self.mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", root],
                capture_output=True,
            ).returncode
            == 0
        )
        settings.MEDIA_ROOT = str(root)
        if self.mounted:
            self.filler = root / "filler"
            self._fill()
        else:
            settings.STORAGES = {
                **settings.STORAGES,
                "default": {"BACKEND": f"{__name__}.FillingStorage"},
            }
            FillingStorage.full = True

    def _fill(self) -> None:
        """Write until the kernel says the disk is full, then give back ROOM."""
        with open(self.filler, "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
        with open(self.filler, "r+b") as filler:
            filler.truncate(self.filler.stat().st_size - ROOM)

    def free(self) -> None:
        """Make room, as an operator would (here: remove the filler)."""
        if self.mounted:
            self.filler.unlink()
        else:
            FillingStorage.full = False

    def files(self) -> list[str]:
        """Every file in media storage but the filler, by its name there."""
        return sorted(
            str(path.relative_to(self.root))
            for path in self.root.rglob("*")
            if path.is_file() and path.name != "filler"
        )

    def close(self) -> None:
        FillingStorage.full = False
        if self.mounted:
            subprocess.run(["umount", "--lazy", self.root], check=True)
