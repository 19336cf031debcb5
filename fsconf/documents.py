"""freeswitch/xml documents, always built with lxml so every value is escaped."""

from __future__ import annotations

from lxml import etree

from fsconf.request import NOT_XML

NOT_FOUND = (
    b'<document type="freeswitch/xml"><section name="result">'
    b'<result status="not found"/></section></document>'
)


def new_document(section: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element("document", type="freeswitch/xml")
    return root, etree.SubElement(root, "section", name=section)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)


def xml_safe(value: str) -> str:
    """Values from the database are validated on input; this keeps an old or imported
    row holding a control character from breaking every lookup that includes it."""
    return NOT_XML.sub("", value)
