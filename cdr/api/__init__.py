"""Call history, reports and usage in the REST API (read-only): docs/api.md, docs/cdr.md."""
