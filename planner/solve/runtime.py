"""The one place that creates HiGHS instances and owns HiGHS's process-wide state.

Two pieces of HiGHS state live in the process, not in a ``Highs`` object:

- the banner: HiGHS 1.16 prints a copyright banner on the C-level stdout when the
  first ``Highs()`` of a process is created.  The planner's stdout is its answer
  (problem lists, ``--json``), so that first instance is made with file
  descriptor 1 pointed at /dev/null;
- the thread scheduler: HiGHS keeps one global task scheduler per process, sized
  by the first solve's ``threads``; a later solve asking for another number fails
  with an error (``HighsStatus.kError``, model status ``kNotset``).  Before every
  solve, :func:`use_threads` resets the scheduler when the count changes.

Every HiGHS instance of the planner comes from :func:`new_highs`, and Pyomo's own
interface is preceded by :func:`prepare` so both rules hold there too.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

_lock = threading.Lock()
_banner_silenced = False
#: the ``threads`` value the global scheduler was last sized for (0 = HiGHS's choice)
_scheduler_threads: int | None = None


def _silence_banner() -> None:
    """Create (and drop) the process's first Highs() with fd 1 on /dev/null."""
    global _banner_silenced
    if _banner_silenced:
        return
    import highspy

    try:
        sys.stdout.flush()
    except (OSError, ValueError):  # pragma: no cover - closed or broken stdout
        pass
    saved = None
    try:
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(devnull)
    except OSError:  # pragma: no cover - no fd 1 to redirect: let the banner be
        highspy.Highs()
    finally:
        if saved is not None:
            os.close(saved)
    _banner_silenced = True


def use_threads(threads: int | None) -> None:
    """Size HiGHS's global scheduler for ``threads`` (None or 0: HiGHS's choice)."""
    global _scheduler_threads
    import highspy

    wanted = int(threads or 0)
    if _scheduler_threads is not None and wanted != _scheduler_threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = wanted


def prepare(threads: int | None = None) -> None:
    """Make the process ready for a solve with ``threads``: banner silenced,
    scheduler sized.  Call before any solve, including Pyomo's interface."""
    with _lock:
        _silence_banner()
        use_threads(threads)


def new_highs(options: dict[str, Any] | None = None) -> Any:
    """A silent ``highspy.Highs`` ready for a solve with ``options["threads"]``."""
    import highspy

    prepare((options or {}).get("threads"))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def version() -> str:
    """HiGHS's own version string, without printing the banner."""
    import highspy

    prepare_banner_only()
    return str(highspy.Highs().version())


def prepare_banner_only() -> None:
    """Silence the banner without touching the scheduler."""
    with _lock:
        _silence_banner()
