from django.core.management import BaseCommand, call_command

from tenants.provisioning import refill_spares, refresh_template, template_is_current


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the tenant template schema and every tenant schema, then "
        "replace spare schemas of an older template."
    )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        if not template_is_current():
            refresh_template(verbosity=verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
        # Tenant migrations may change PBX rows without the actions layer: the public
        # directory index is rebuilt from what they left.
        call_command("rebuild_directory_index", verbosity=verbosity)
        made = refill_spares()
        if verbosity:
            self.stdout.write(f"{made} spare tenant schema(s) made.")
