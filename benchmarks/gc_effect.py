"""What pausing the garbage collector in the hot loops is worth (issue "One model, many
cases": keep the collector out of hot loops, and measure the effect).

Runs ``planner run --no-policy`` on the synthetic instance of the given size in a child
process, alternating two modes, and reports per run the wall and CPU seconds, the
time spent in the cyclic collector (``gc.callbacks``), how many full (generation 2)
collections ran, and the peak resident memory:

- ``paused``: the planner as shipped (the collector paused while building the shared
  model, solving each case and writing the report: ``PauseGC``, ``planner.collector``);
- ``normal``: the same code with every pause replaced by a no-op.

    python -m benchmarks.gc_effect --size 100k --repeats 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.instances import write_instance
from benchmarks.run import record

CHILD = r"""
import gc, json, resource, sys, time
stats = {"collections": 0, "gc_s": 0.0, "full": 0}
began = [0.0]
def watch(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        stats["collections"] += 1
        stats["gc_s"] += time.perf_counter() - began[0]
        stats["full"] += info["generation"] == 2
gc.callbacks.append(watch)
if sys.argv[2] == "normal":
    import contextlib
    import planner.collector, planner.model.build, planner.run.batch, planner.solve.arrays
    import planner.solve.warm
    for mod in (planner.model.build, planner.run.batch, planner.solve.arrays,
                planner.solve.warm):
        mod.PauseGC = contextlib.nullcontext
    planner.collector.paused = contextlib.nullcontext
from planner import api
w, c = time.perf_counter(), time.process_time()
api.run(sys.argv[1], sys.argv[3], with_policy=False)
stats.update(wall_s=time.perf_counter() - w, cpu_s=time.process_time() - c,
             peak_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2)
print(json.dumps(stats))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="100k")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = write_instance(args.size, Path(tmp) / f"{args.size}.xlsx")
        for i in range(args.repeats):
            for mode in ("paused", "normal"):
                out = subprocess.run([sys.executable, "-c", CHILD, str(src), mode,
                                      str(Path(tmp) / "r.xlsx")], capture_output=True,
                                     text=True, check=True)
                got = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append({"repeat": i + 1, "mode": mode,
                             **{k: round(v, 2) if isinstance(v, float) else v
                                for k, v in got.items()}})
    record("gc_effect", argv or sys.argv[1:], args.name or f"gc-{args.size}",
           "One child process per run, modes alternating; gc_s is the time inside the "
           "cyclic collector, full the number of generation-2 collections.", [rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
