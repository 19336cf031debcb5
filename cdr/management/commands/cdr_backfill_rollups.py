"""Rebuild the call-record roll-ups (cdr.rollups) of a range of days from the records:
after upgrading to the roll-ups with records already stored, or after a repair."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cdr.rollups import backfill


class Command(BaseCommand):
    help = "Rebuild the call-record roll-ups of the days [--since, --until) from the records."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=date.fromisoformat,
                            help="First day (default: the day of the oldest record).")
        parser.add_argument("--until", type=date.fromisoformat,
                            help="Day after the last one (default: tomorrow).")
        parser.add_argument("--days-per-step", type=int, default=31,
                            help="Days per transaction: each locks out ingest while it runs.")

    def handle(self, *args, since: date | None, until: date | None, days_per_step: int, **options) -> None:
        if since is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT min(start_at) FROM cdr_callrecord")
                oldest = cursor.fetchone()[0]
            if oldest is None:
                self.stdout.write("No call records.")
                return
            since = oldest.date() - timedelta(days=1)
        until = until or date.today() + timedelta(days=2)
        if since >= until or days_per_step < 1:
            raise CommandError("--since must be before --until, and --days-per-step at least 1.")
        step = since
        while step < until:
            end = min(step + timedelta(days=days_per_step), until)
            counts = backfill(step, end)
            self.stdout.write(f"{step} .. {end}: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
            step = end
