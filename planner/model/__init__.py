"""The Pyomo model: the registry of constraint families and cost parts
(:mod:`planner.model.families`) and the builder (:mod:`planner.model.build`).
"""
