"""The atomic save: a temporary file beside the target, streamed rows written into it,
then a rename; nothing half-written is ever left under the target's name, also on
SIGTERM or a full disk."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from planner.xlsx.tables import _STREAMS, _finish


def _file_mode(target: Path) -> int:
    """The permissions a plain ``open(target, "w")`` would give: the existing file's,
    else 0o666 less the umask (a temporary file is created private, 0o600)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class Terminated(SystemExit):
    """SIGTERM arrived while a file was being saved; exits with status 143 (128 + 15)
    after the temporary file is removed."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While saving, SIGTERM raises :class:`Terminated` (as SIGINT raises
    KeyboardInterrupt) so the cleanup runs; the previous handler is restored after.
    Signal handlers can only be set from the main thread: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _save_zip(wb: Workbook, path: str) -> None:
    """``wb.save(path)``, but the zip file is closed on failure too: openpyxl leaves it
    open, and its finaliser then fails again (on a full disk) and prints
    "Exception ignored in ZipFile.__del__" after the real message."""
    if wb.write_only and not wb.worksheets:
        wb.create_sheet()
    archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    try:
        wb.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
        ExcelWriter(wb, archive).write_data()
    except BaseException:
        _discard(archive)
        raise
    archive.close()


def _discard(archive: zipfile.ZipFile) -> None:
    """Close a zip being written after a failure, ignoring the errors of closing (the
    first error is the one to report); the file itself is deleted by the caller."""
    try:
        archive.close()
    except Exception:  # noqa: BLE001, S110 - the original failure is being raised
        pass
    fp = archive.fp
    archive.fp = None
    if fp is not None:
        try:
            fp.close()
        except Exception:  # noqa: BLE001, S110
            pass


def save_atomic(wb: Workbook, path: str | Path) -> Path:
    """Save to a temporary file beside ``path`` and rename it into place.

    Streamed tables (see :func:`write_table`) get their rows in the temporary
    file before the rename.  Whatever stops the save (an error, Ctrl-C, SIGTERM),
    the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sigterm_raises():
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".xlsx",
                                   dir=target.parent)
        os.close(fd)
        try:
            _save_zip(wb, tmp)
            _finish(tmp, [st for st in _STREAMS.get(wb, []) if st.ws in wb.worksheets])
            os.chmod(tmp, _file_mode(target))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target
