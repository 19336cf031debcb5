"""Call control: the outbound event-socket server FreeSWITCH hands calls to (``socket``
application, ``<host>:8084 async full``) and the per-call session API the apps use."""
