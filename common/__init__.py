"""Shared infrastructure below every app: it imports none of them (.importlinter), and any
of them may import it.

* ``secrets``: secrets at rest (Fernet; SIP passwords, gateway and event-socket passwords)
  and the SIP digests made from them;
* ``signals``: the change signals more than one app sends (each app's own stay with it:
  ``pbx.signals``, ``carriers.signals``);
* ``prepared``: prepared statements for the constant queries of the xml_curl hot path.

Not a Django app: no models, nothing to install.
"""
