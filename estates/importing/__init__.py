"""Excel/CSV import of the estates registry: units, owners with their ownerships, contractors.

One file into one project. The pieces, each with one job:

- ``reader``: recognise the file by its content and yield its tables (sheets or one CSV);
- ``schema``: the sheets and their Chinese headers; ``cells``: one cell → one clean value;
- ``units`` / ``owners`` / ``contractors``: parse rows, classify them against the database
  (new / updated / unchanged) and write them in bulk;
- ``history``: django-simple-history rows for bulk writes;
- ``engine``: runs the above as a dry run (preview) or an atomic apply;
- ``jobs``: the ImportJob lifecycle shared by the admin views, the background tasks and the
  ``import_estates`` command; ``template``: the downloadable template workbook.
"""
