from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The peer address, for the audit log. Behind a reverse proxy, configure the proxy to
    set REMOTE_ADDR (e.g. uwsgi/gunicorn forwarded-allow-ips) rather than trusting
    X-Forwarded-For here."""
    return request.META.get("REMOTE_ADDR")
