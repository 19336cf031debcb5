"""Django's PostgreSQL backend with the outage limits of ``common.dbhealth`` (wait limits,
the breaker); django-tenants' backend is built on it (``ORIGINAL_BACKEND``)."""
