"""Import of historic cases from an Excel (.xlsx) sheet, on the estates import machinery.

The pieces, each with one job (the reading, cell parsing, report and bulk writing are estates'
``estates.importing``, reused as they are):

- ``schema``: the columns of the case sheet — the case list's export columns plus what history
  needs — with their Chinese headers and cell parsers;
- ``numbers``: case numbers in the configured format, read back into (kind, day, sequence);
- ``importer``: checks each row against the database (projects in the user's scope, units,
  categories, numbers) and writes cases, their "import" timeline events, history rows and the
  raised number counters in bulk;
- ``run``: one import as a dry run or an atomic apply, shared by the admin page and the
  ``import_cases`` command; ``template``: the downloadable template workbook.

Historic cases are history: no SLA clock starts for them.
"""
