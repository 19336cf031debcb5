"""What FreeSWITCH must be told when the PBX model changes (pbx.signals)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings

from fsnodes.queue import enqueue_many

log = logging.getLogger(__name__)


def flush_cache_commands(domains: list[str], usernames: list[str]) -> list[str]:
    """``xml_flush_cache id USER DOMAIN`` for every username in every domain (the primary
    and each alias: FreeSWITCH caches a user per realm it was looked up in)."""
    commands = []
    for username in usernames:
        for domain in domains:
            if not username or not domain or any(ch.isspace() for ch in username + domain):
                # FreeSWITCH splits the arguments on spaces: such a pair cannot be named.
                log.error("cannot flush FreeSWITCH's cache for %r@%r", username, domain)
                continue
            commands.append(f"xml_flush_cache id {username} {domain}")
    return list(dict.fromkeys(commands))


def _flush_inbound_reg(targets: Iterable[tuple[str, str]]) -> list[str]:
    """``sofia profile <phones> flush_inbound_reg [USER@]HOST`` per (user, host), each
    once, in order; a name with a space or an ``@`` cannot be that one argument and is
    skipped, as is an empty host."""
    profile = settings.PHONE_PROFILE
    return list(dict.fromkeys(
        f"sofia profile {profile} flush_inbound_reg {user + '@' if user else ''}{host}"
        for user, host in targets
        if host and not any(ch.isspace() or ch == "@" for ch in user + host)))


def unregister_commands(domains: list[str], usernames: list[str]) -> list[str]:
    """``sofia profile internal flush_inbound_reg USER@DOMAIN`` for every username in
    every domain: sofia drops the registrations stored for exactly that user and host
    (sofia_reg_expire_call_id: ``... or (sip_user='USER' and sip_host='DOMAIN')``), the
    account's other phones keep theirs."""
    return _flush_inbound_reg((username, domain) for username in usernames if username for domain in domains)


def on_sip_credentials_changed(sender, *, account=None, domains=(), usernames=(), ended=(),
                               **kwargs) -> None:
    """Sent inside the pbx action's transaction: the queued rows commit or roll back with
    the change, and delivery starts after commit. Credentials that ended (a device
    removed or turned off, a new secret) also lose their phones' registrations: without
    that the dashboard, and sofia, listed a deleted phone until its registration expired
    (its calls were refused already: every INVITE is challenged against the directory)."""
    commands = flush_cache_commands(list(domains), list(usernames))
    commands += unregister_commands(list(domains), [name for name in ended if name in usernames])
    if commands:
        enqueue_many(commands)


def on_gateways_changed(sender, *, stale=(), **kwargs) -> None:
    """sofia reads gateways only when a profile starts or is rescanned: drop the removed
    or changed ones, then rescan, which (re)creates the rest from sofia.conf."""
    profile = settings.TRUNK_PROFILE
    enqueue_many([*(f"sofia profile {profile} killgw {name}" for name in stale),
                  f"sofia profile {profile} rescan"])


def flush_registrations_commands(domains: list[str]) -> list[str]:
    """``sofia profile internal flush_inbound_reg DOMAIN`` per domain: with no ``@`` the
    argument is a host and sofia drops every registration stored under it
    (sofia_reg_expire_call_id: ``... or (sip_host='DOMAIN')``)."""
    return _flush_inbound_reg(("", domain) for domain in domains)


def on_account_changed(account) -> None:
    """After an account change commits: an account that no longer serves (suspended,
    deleted, or below one that is) has its phones' registrations dropped from sofia, and
    those of every account below it; suspension already refuses their calls and new
    registrations, this ends the ones sofia still holds."""
    from tenants.models import Account, Domain

    try:
        if account.is_effectively_active():
            return
        subtree = Account.objects.subtree_of(account)
        domains = Domain.objects.filter(tenant__in=subtree).values_list("domain", flat=True)
        commands = flush_registrations_commands(sorted(domains))
        if commands:
            log.info("account %s no longer serves: flushing the registrations of %d domain(s)",
                     account.pk, len(commands))
            enqueue_many(commands)
    except Exception:
        # After commit: the suspension stands (calls and new registrations are refused);
        # only the early end of the current registrations is lost.
        log.exception("could not queue the registration flush for account %s", account.pk)


def on_voicemail_boxes_deleted(sender, *, domain="", boxes=(), **kwargs) -> None:
    """mod_voicemail keeps a deleted box's messages until told: ``vm_delete <box>@<domain>``
    without a message uuid deletes every message of that box only. Safe to repeat."""
    enqueue_many([f"vm_delete {box}@{domain}" for box in boxes
                  if box and domain and not any(ch.isspace() for ch in box + domain)])


def voicemail_message_commands(domain: str, box: str, *, read=(), unread=(), deleted=()) -> list[str]:
    """What mod_voicemail is told when messages change here. ``vm_read`` matches a message
    by uuid alone (mod_voicemail.c voicemail_read_api_function): a call that left copies
    in several boxes has them all marked; there is no box-scoped read command. It updates
    the box's message light. Deletes are box-scoped (``vm_fsdb_msg_delete`` flags, the
    purge unlinks the file and updates the light), as the retention sweep does. Every
    command is safe to repeat; a node that does not hold the message changes nothing."""
    if not box or not domain or any(ch.isspace() or ch in "@/" for ch in box + domain):
        log.error("cannot name voicemail box %r@%r to FreeSWITCH", box, domain)
        return []

    def plain(uuids) -> list[str]:
        return [u for u in uuids if u and not any(ch.isspace() or ch in "'\\" for ch in u)]

    commands = [*(f"vm_read {box}@{domain} read {u}" for u in plain(read)),
                *(f"vm_read {box}@{domain} unread {u}" for u in plain(unread))]
    gone = plain(deleted)
    if gone:
        commands += [*(f"vm_fsdb_msg_delete default {domain} {box} {u}" for u in gone),
                     f"vm_fsdb_msg_purge default {domain} {box}"]
    return commands


def on_voicemail_messages_changed(sender, *, domain="", box="", read=(), unread=(), deleted=(),
                                  **kwargs) -> None:
    """Queued inside the action's transaction: the commands commit with the row change."""
    commands = voicemail_message_commands(domain, box, read=read, unread=unread, deleted=deleted)
    if commands:
        enqueue_many(commands)


def on_moh_streams_changed(sender, *, start=(), reload=(), stop=(), **kwargs) -> None:
    """mod_local_stream reads local_stream.conf only when a stream starts or reloads (a
    reload while callers listen re-reads the settings, e.g. shuffle). Each command is
    safe to repeat: starting a running stream only un-stops it; the others answer -ERR
    for a stream that is not there."""
    enqueue_many([*(f"start_local_stream {name}" for name in start),
                  *(f"reload_local_stream {name}" for name in reload),
                  *(f"stop_local_stream {name}" for name in stop)])


def on_callcenter_changed(sender, *, commands=(), **kwargs) -> None:
    """mod_callcenter keeps queues, agents and tiers in its own database: each change is
    a ``callcenter_config`` command (pbx.queues). A node that does not have the queue
    or agent answers -ERR, which is not retried: its next load of callcenter.conf brings
    it in step. Queued inside the action's transaction, like the rest."""
    enqueue_many([f"callcenter_config {command}" for command in commands])
