"""``callcenter.conf``: every live tenant's call queues with their agents and tiers, for
FreeSWITCH's mod_callcenter. Names as mod_callcenter.c reads them: settings in
``load_config``, queue params in ``queue_set_config``, agent attributes in
``load_agent``, tier attributes in ``load_tiers``; queue and agent names from pbx.queues.

mod_callcenter asks twice over: when it loads (the five basic fields only, captured as
requests A16 and B16 at startup and A123 for ``reload mod_callcenter``), for everything;
and when it loads or reloads one queue (``load_queue``), with ``CC-Queue`` naming it,
for that queue, its agents and its tiers only: such an answer never holds another queue,
let alone another tenant's.

An agent's status comes from its saved login and pause (pbx.actions.queues), so a node
that restarts or reloads a queue gets them back. Without any queue the answer is still
a document, settings only: mod_callcenter then loads with no queues rather than from a
static file.

One document for the platform (plus one per queue name), cached under the platform
generation and the ``callcenter`` generation that every queue, agent or agent-status
write bumps (fsconf.receivers): an agent pausing does not throw away every tenant's
cached documents, as a platform bump would. Built in three queries whatever the number
of tenants (the live tenants holding the tables, all queues, all agents).
"""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from lxml import etree

from fsconf.cache import note_tenant
from fsconf.documents import new_document, serialize, xml_safe
from fsconf.request import FetchRequest
from pbx import media, queues
from pbx.models import MediaStatus, Prompt, QueueAgent
from pbx.models.queues import agent_status
from tenants.models import Account

# The cache generation this document is kept under besides the platform's (a name no
# tenant schema can have: schema names are identifiers).
CACHE_SCOPE = "~callcenter"
# The document is the whole truth: agents and tiers deleted while a node was down must
# not survive in mod_callcenter's own database when it loads again.
SETTINGS = [("truncate-agents-on-load", "true"), ("truncate-tiers-on-load", "true")]

_QUEUES = """
    q.id, q.strategy, q.moh_group_id, q.announcement_seconds, q.max_wait_seconds,
    q.max_wait_no_agent_seconds, q.tier_rules_apply, q.tier_rule_wait_seconds,
    q.tier_rule_wait_multiply_level, q.tier_rule_no_agent_no_wait, q.discard_abandoned_after,
    q.abandoned_resume_allowed, q.record_calls, q.time_base_score, q.agent_ring_seconds,
    q.agent_no_answer_delay, q.agent_busy_delay, q.agent_reject_delay, q.agent_wrap_up_seconds,
    q.agent_max_no_answer, p.upload AS announcement_upload, p.status AS announcement_status,
    EXISTS (SELECT 1 FROM {schema}.pbx_mohtrack t WHERE t.group_id = q.moh_group_id
            AND t.status = 'ready') AS moh_ready
    FROM {schema}.pbx_callqueue q LEFT JOIN {schema}.pbx_prompt p ON p.id = q.announcement_id"""
_AGENTS = """
    a.queue_id, a.extension_id, e.number, e.enabled, a.level, a.position, a.login_required,
    a.logged_in, a.paused, a.id
    FROM {schema}.pbx_queueagent a JOIN {schema}.pbx_extension e ON e.id = a.extension_id"""


Row = dict[str, object]


def callcenter_conf(fetch: FetchRequest) -> bytes:
    # Before anything else: the first generation noted is the one the answer keeps.
    note_tenant(CACHE_SCOPE)
    only = fetch.get("CC-Queue")
    root, section = new_document("configuration")
    configuration = etree.SubElement(section, "configuration", name="callcenter.conf",
                                     description="Switchboard call queues")
    settings = etree.SubElement(configuration, "settings")
    for name, value in SETTINGS:
        etree.SubElement(settings, "param", name=name, value=value)
    queue_list = etree.SubElement(configuration, "queues")
    agent_list = etree.SubElement(configuration, "agents")
    tier_list = etree.SubElement(configuration, "tiers")
    wanted = queues.parse_queue_name(only) if only else None
    if only and wanted is None:
        found, agents = [], []  # no queue of ours: mod_callcenter finds none
    else:
        found, agents = _read(wanted[1] if wanted else None, wanted[0] if wanted else None)
    by_queue: dict[tuple[str, int], Row] = {}
    for queue in found:
        by_queue[(queue["schema"], queue["id"])] = queue
        _queue_element(queue_list, queue)
    for member in agents:
        queue = by_queue[(member["schema"], member["queue_id"])]
        domain = queue["domain"]
        queue_name = queues.queue_name(queue["id"], domain)
        agent = queues.agent_name(queue["id"], member["extension_id"], domain)
        etree.SubElement(agent_list, "agent", {
            "name": agent, "type": "callback",
            "contact": xml_safe(queues.contact(member["number"], domain, queue["agent_ring_seconds"])),
            "status": agent_status(member["login_required"], member["logged_in"], member["paused"],
                                   member["enabled"]),
            "max-no-answer": str(queue["agent_max_no_answer"]),
            "wrap-up-time": str(queue["agent_wrap_up_seconds"]),
            "reject-delay-time": str(queue["agent_reject_delay"]),
            "busy-delay-time": str(queue["agent_busy_delay"]),
            "no-answer-delay-time": str(queue["agent_no_answer_delay"]),
        })
        etree.SubElement(tier_list, "tier", agent=agent, queue=queue_name, level=str(member["level"]),
                         position=str(member["position"]))
    return serialize(root)


def _bool(value: object) -> str:
    return "true" if value else "false"


def _queue_element(parent: etree._Element, queue: Row) -> None:
    schema = str(queue["schema"])
    element = etree.SubElement(parent, "queue", name=queues.queue_name(queue["id"], queue["domain"]))
    # What callers hear is the dialplan's cc_moh_override (always current); this is the
    # same stream, for a queue entered any other way.
    moh = (f"local_stream://{media.stream_name(schema, queue['moh_group_id'])}"
           if queue["moh_group_id"] and queue["moh_ready"] else media.STOCK_MOH)
    params = [
        ("strategy", queue["strategy"]), ("moh-sound", moh), ("time-base-score", queue["time_base_score"]),
        ("max-wait-time", str(queue["max_wait_seconds"])),
        ("max-wait-time-with-no-agent", str(queue["max_wait_no_agent_seconds"])),
        ("tier-rules-apply", _bool(queue["tier_rules_apply"])),
        ("tier-rule-wait-second", str(queue["tier_rule_wait_seconds"])),
        ("tier-rule-wait-multiply-level", _bool(queue["tier_rule_wait_multiply_level"])),
        ("tier-rule-no-agent-no-wait", _bool(queue["tier_rule_no_agent_no_wait"])),
        ("discard-abandoned-after", str(queue["discard_abandoned_after"])),
        ("abandoned-resume-allowed", _bool(queue["abandoned_resume_allowed"])),
    ]
    announcement = _announcement(schema, queue["announcement_upload"], queue["announcement_status"])
    if announcement:
        params += [("announce-sound", announcement),
                   ("announce-frequency", str(queue["announcement_seconds"]))]
    if queue["record_calls"]:
        params.append(("record-template", queues.record_template(schema, queue["id"])))
    for name, value in params:
        etree.SubElement(element, "param", name=name, value=xml_safe(str(value)))


def _announcement(schema: str, upload: object, status: object) -> str:
    """The announcement as FreeSWITCH plays it (media.playable_path's rules, without a
    query: the row was read with the queue)."""
    if not upload or status != MediaStatus.READY or not str(upload).startswith(f"{schema}/"):
        return ""
    return media.freeswitch_path(media.converted_name(Prompt(upload=str(upload)), 8000))


# Live tenants (or the one whose primary domain is named) whose schema holds the
# tables: a schema being provisioned is skipped rather than failing everyone's document.
_TENANTS = """
    SELECT a.schema_name, d.domain FROM tenants_domain d JOIN tenants_account a ON a.id = d.tenant_id
    WHERE d.is_primary AND a.deleted_at IS NULL AND a.kind <> %s AND a.schema_name <> %s {domain}
      AND EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relname = %s AND n.nspname = a.schema_name)
    ORDER BY a.schema_name
"""


def _tenants(cursor, domain: str | None) -> list[tuple[str, str]]:
    """(schema, primary domain) of every live tenant (or of the one whose primary domain
    is ``domain``)."""
    params = [Account.Kind.MASTER.value, get_public_schema_name(), *([domain] if domain else []),
              QueueAgent._meta.db_table]
    cursor.execute(_TENANTS.format(domain="AND d.domain = %s" if domain else ""), params)
    return [(schema, name) for schema, name in cursor.fetchall()]


def _rows(cursor) -> list[Row]:
    columns = [column.name for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _union(schemas: list[str], select: str, where: str, queue_pk: int | None) -> tuple[str, list]:
    """One SELECT per schema (``{schema}`` quoted in ``select``), each tagged with it."""
    quote = connection.ops.quote_name
    parts, params = [], []
    for schema in schemas:
        parts.append(f"SELECT %s AS schema, {select.format(schema=quote(schema))}"
                     + (where if queue_pk is not None else ""))
        params += [schema, *([queue_pk] if queue_pk is not None else [])]
    return " UNION ALL ".join(parts), params


def _read(domain: str | None, queue_pk: int | None) -> tuple[list[Row], list[Row]]:
    """Every queue and agent of every live tenant (or of the one at ``domain``, only
    queue ``queue_pk``): three queries, whatever the number of tenants."""
    with connection.cursor() as cursor:
        tenants = _tenants(cursor, domain)
        if not tenants:
            return [], []
        domain_of = dict(tenants)
        sql, params = _union(list(domain_of), _QUEUES, " WHERE q.id = %s", queue_pk)
        cursor.execute(sql + " ORDER BY 1, 2", params)
        found = _rows(cursor)
        if not found:
            return [], []
        for queue in found:
            queue["domain"] = domain_of[str(queue["schema"])]
        schemas = sorted({str(queue["schema"]) for queue in found})
        sql, params = _union(schemas, _AGENTS, " WHERE a.queue_id = %s", queue_pk)
        cursor.execute(sql + " ORDER BY 1, 2, 6, 7, 11", params)  # schema, queue, level, position, id
        return found, _rows(cursor)
