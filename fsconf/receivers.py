"""Cache invalidation: every write that changes what FreeSWITCH fetches announces it (PBX
and carrier signals, the accounts' change hook) and lands here. PBX writes also update
the account's rows of the public directory index (what the write's signal names of it),
in their own transaction."""

from __future__ import annotations

from django.dispatch import receiver

from common.signals import platform_config_changed
from fsconf import directory_index
from fsconf.cache import invalidate_platform, invalidate_tenant
from fsnodes.auth_guard import auth_blocks_changed
from pbx.signals import IndexScope, callcenter_changed, tenant_config_changed
from tenants import actions as account_actions


@receiver(tenant_config_changed)
def _tenant_changed(sender, account, index: IndexScope = IndexScope.WHOLE, **kwargs) -> None:
    # Inside the write's transaction (pbx.signals): the index changes when it commits.
    directory_index.update(account, index)
    invalidate_tenant(account.schema_name)


@receiver(platform_config_changed)
def _platform_changed(sender, **kwargs) -> None:
    invalidate_platform()


@receiver(callcenter_changed)
def _callcenter_changed(sender, **kwargs) -> None:
    # callcenter.conf's own generation (fsconf.sections.conf_callcenter); connected before
    # fsnodes' receiver, so the bump comes before any command reaches a node.
    from fsconf.sections.conf_callcenter import CACHE_SCOPE

    invalidate_tenant(CACHE_SCOPE)


@receiver(auth_blocks_changed)
def _auth_blocks_changed(sender, *, account=None, **kwargs) -> None:
    # A SIP user's block changes only its tenant's sip_auth answers; an address's, any
    # tenant's.
    if account is None:
        invalidate_platform()
    else:
        invalidate_tenant(account.schema_name)


def _account_changed(account) -> None:
    # Status, domains, limits, the place in the tree: any tenant's answers may change
    # (a suspended reseller blocks its whole subtree).
    invalidate_platform()


account_actions.account_change_listeners.append(_account_changed)
