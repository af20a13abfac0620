"""The consultation report for the secretariat: every comment, amendment, position and
disposition, as CSV (one kind per file) and as an XLSX workbook (one sheet per kind)."""
