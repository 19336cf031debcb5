import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from cdr.wsgi import with_cdr_fast_path  # noqa: E402
from common.dbhealth import set_default_wait_limit  # noqa: E402
from fsconf.wsgi import with_fast_path  # noqa: E402  (needs the settings configured above)

# The web server's role: no database wait of this process is endless (Django's recycling
# of connections before a request included); xml_curl requests have a shorter limit.
set_default_wait_limit(settings.WEB_DATABASE_WAIT)

application = with_cdr_fast_path(with_fast_path(django_application))
