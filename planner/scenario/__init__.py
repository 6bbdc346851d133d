"""Cases and groupings: the base case and each scenario as effective parameters, the
index sets the model sums over, and the warnings about the base case.  Pure Python:
no Pyomo here, so loading and validating a workbook stays light.
"""
