"""Our own transfers in tests: the proof a dialplan document sets before it transfers to a
``~`` number (pbx.routing.transfer_proof), read back so the next lookup can carry it the
way FreeSWITCH carries the channel variable."""

from __future__ import annotations

from lxml import etree

from pbx.routing import TRANSFER_PROOF_VARIABLE, transfer_proof


def proof_set_by(root: etree._Element) -> str:
    """The proof the document sets for its transfer ("" when it sets none)."""
    prefix = f"{TRANSFER_PROOF_VARIABLE}="
    for action in root.xpath(".//extension[@name='switchboard-transfer']/condition/action"):
        data = action.get("data") or ""
        if action.get("application") == "set" and data.startswith(prefix):
            return data[len(prefix):]
    return ""


def as_our_transfer(context: str, number: str, on_behalf: int | None = None) -> dict[str, str]:
    """The channel variable one of our transfers to ``number`` in ``context`` leaves,
    as ``dial_body`` overrides."""
    return {TRANSFER_PROOF_VARIABLE: transfer_proof(context, number, on_behalf)}
