"""The report workbooks: the run report, its Dashboard, the resilience and hedge
reports.  Reads results only: never re-solves.
"""
