"""Running cases: one case end to end (:mod:`planner.run.case`), and many over
local processes or a Dask cluster (:mod:`planner.run.sweep`).
"""
