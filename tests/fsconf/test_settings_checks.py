"""Deploy checks and secret-key rotation."""

from __future__ import annotations

from common.secrets import decrypt_secret, encrypt_secret
from fsconf.checks import allowed_networks_parse, production_secrets


def test_empty_gateway_credentials_fail_the_deploy_check(settings):
    settings.FREESWITCH_GATEWAY_CREDENTIALS = ""
    assert "fsconf.E002" in [m.id for m in production_secrets(None)]
    settings.FREESWITCH_GATEWAY_CREDENTIALS = "fsxml:secret"
    settings.SIP_SECRET_ENCRYPTION_KEY = "k"
    assert production_secrets(None) == []


def test_bad_network_is_reported(settings):
    settings.FREESWITCH_ALLOWED_NETWORKS = ["127.0.0.0/8", "not-a-net"]
    assert [m.id for m in allowed_networks_parse(None)] == ["fsconf.E001"]


def test_sip_key_rotation_keeps_old_secrets_readable(settings):
    settings.SIP_SECRET_ENCRYPTION_KEY = "old-key"
    token = encrypt_secret("acme-1001-secret")
    settings.SIP_SECRET_ENCRYPTION_KEY = "new-key,old-key"
    assert decrypt_secret(token) == "acme-1001-secret"
    settings.SIP_SECRET_ENCRYPTION_KEY = "new-key"
    assert decrypt_secret(token) is None
