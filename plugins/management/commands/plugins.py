from django.core.management.base import BaseCommand

from plugins.registry import all_plugins


class Command(BaseCommand):
    help = "List the portal plugins: label, version, enabled and what each requires."

    def handle(self, *args, **options):
        rows = [("label", "version", "enabled", "requires", "description")]
        for info in all_plugins():
            rows.append(
                (
                    info.label,
                    info.version,
                    "yes" if info.enabled else "no",
                    ", ".join(info.requires) or "-",
                    info.description,
                )
            )
        if len(rows) == 1:
            self.stdout.write("No plugins found.")
            return
        widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
        for row in rows:
            cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
            self.stdout.write("  ".join(cells + [str(row[4])]).rstrip())
