"""freeswitch/xml documents, always built with lxml so every value is escaped."""

from __future__ import annotations

from lxml import etree

NOT_FOUND = (
    b'<document type="freeswitch/xml"><section name="result">'
    b'<result status="not found"/></section></document>'
)


def new_document(section: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element("document", type="freeswitch/xml")
    return root, etree.SubElement(root, "section", name=section)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)
