import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
django_application = get_wsgi_application()

from cdr.wsgi import with_cdr_fast_path  # noqa: E402
from fsconf.wsgi import with_fast_path  # noqa: E402  (needs the settings configured above)

application = with_cdr_fast_path(with_fast_path(django_application))
