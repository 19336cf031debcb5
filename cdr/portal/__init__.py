"""Call history, reports and usage in the tenant portal (docs/portal.md, docs/cdr.md)."""
