"""The REST API's generic pieces: every app's ``api/`` (serializers, views, urls, one file
name per object) is declarations on these.

One request, in order: ``authentication`` resolves the identity once (an API key bound
to one account, or the session bound to this host; tenants.identity), ``permissions``
requires one and refuses writes to read-only identities, ``throttling`` counts the
request against its key, ``views`` finds the account of the path within the identity's
reach (404 otherwise, like a missing id) and switches to its schema, ``idempotency``
replays a retried create, the view calls the object's actions (the only writers; they
check the role again), and ``errors`` turns what the actions raise into 400 / 403 / 404
/ 409. ``schema`` documents all of it in the OpenAPI document.
"""
