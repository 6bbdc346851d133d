"""The solver boundary: HiGHS through Pyomo or as arrays, typed statuses with causes,
the process-wide HiGHS state, warm starts.
"""
