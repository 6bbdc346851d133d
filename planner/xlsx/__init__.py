"""openpyxl helpers every workbook writer uses: safe cells, tidy tables (streamed
when large), and the atomic save.
"""
