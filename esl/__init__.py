"""FreeSWITCH's event socket (mod_event_socket), our own implementation, shared by the two
sides that speak it:

* ``framing``: messages, headers and bodies as FreeSWITCH writes them (both directions);
* ``variables``: channel variables folded in from events as they are read;
* ``connection``: one *outbound* connection per call on gevent (FreeSWITCH's ``socket``
  application dialled us), used by the call-control server (``callcontrol``);
* ``client``: the small synchronous *inbound* client (connect, authenticate, ``api``,
  leave) the node outbox and the node manager use (``fsnodes``);
* ``addresses``: ``host:port`` as settings write it, and the form the ``socket`` dialplan
  application takes (call control listens on one, the dialplan hands FreeSWITCH the other).

A protocol library: it imports neither Django nor any of our apps (.importlinter), so
both users depend on it and it on nothing of theirs. Importing the package loads no
submodule: the synchronous client runs in Celery workers without gevent.
"""
