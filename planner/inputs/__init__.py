"""The input workbook: schema (declared once), reading, validation, the template.

Nothing here knows the model; :func:`planner.scenario.plan.load_plan` adds the
warnings that need the base case.
"""
