"""The collector pauses and the memory hand-back (planner.collector)."""

from __future__ import annotations

import gc

from planner import collector


def test_paused_nests_and_restores() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_trim_is_safe_to_call_anywhere() -> None:
    """glibc's malloc_trim where there is one, else nothing."""
    collector.trim()
    collector.trim()
    collector._malloc_trim.cache_clear()
    try:
        import ctypes

        real = ctypes.CDLL

        class _NoTrim:
            def __init__(self, *_: object) -> None:
                pass

        ctypes.CDLL = _NoTrim  # type: ignore[misc,assignment]
        assert collector._malloc_trim() is None
        collector.trim()
    finally:
        ctypes.CDLL = real  # type: ignore[misc]
        collector._malloc_trim.cache_clear()
