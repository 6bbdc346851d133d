"""Input limits: the largest workbook the planner agrees to read.

One place for every limit (docs/decisions.md, "Input limits").  A workbook over
a limit is refused with a problem naming what crossed which limit, instead of
running for minutes or until memory runs out.  The sizes are checked from the
zip directory before anything is parsed, the cells and text while scanning the
sheets' XML, and again while reading each sheet (stopping at the first crossing).

A legitimate large plan (25,000 Offers rows, 200,000 Demand rows: about a
million cells and 40 MB unpacked) stays far below every limit.
"""

from __future__ import annotations

#: Unpacked size of all the parts of a workbook, as its zip directory declares them
#: (zip reading stops at the declared size, so a part cannot unpack to more).
MAX_UNPACKED_BYTES = 1 << 30  # 1 GiB

#: Cells in the sheets the planner reads, all together.  Cells stored in the XML are
#: counted before parsing; while reading, the empty cells left of the last cell of a
#: row and every row (even an empty one) count too, since they take memory as well.
MAX_CELLS = 20_000_000

#: Characters in one text cell: Excel's own limit.
MAX_TEXT_CHARS = 32_767

#: Bytes of XML between two tags.  One character takes at most 10 bytes of XML
#: (``&#x10FFFF;``), so a longer run can only be text beyond :data:`MAX_TEXT_CHARS`;
#: it is refused before the parser builds it in memory.
MAX_XML_TEXT_BYTES = 10 * MAX_TEXT_CHARS
