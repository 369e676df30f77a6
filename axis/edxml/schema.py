"""Validate edXML packages against the QCVN 102:2016 XML Schemas in ``axis/edxml/schemas/``.

Two engines, because each is good at half of the job. libxml2 (through lxml) is fast, so it alone
decides whether a package is valid. Its messages are poor for a vendor, though: no stable reason and
no handle on *which named type* failed. So a package libxml2 refuses is validated again with
xmlschema, whose first error gives an XPath-like path, a reason, what was expected and the failing
named simple type; the type name becomes a stable error code (``AgencyCode`` ->
``edxml.agency_code.malformed``, ...). xmlschema is slow (seconds on large packages), and only invalid
packages pay for it.

No network, ever: the schemas are local files with no DTD (the vendored W3C xmldsig schema had its
DOCTYPE removed), xmlschema is sandboxed to the schema directory, and schema location hints inside a
package are ignored.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import xmlschema
from lxml import etree
from xmlschema.validators import XsdGroup, XsdSimpleType

# ``Kind`` (DOCUMENT, STATUS) is the model's enum, re-exported: the reader detects the kind and hands
# it straight to ``Schemas.validate``, so two look-alike enums would not type-check against each other.
from axis.edxml.model import Kind
from axis.edxml.namespaces import DS_NS, EDXML_NS, EDXML_PREFIX, ds, ed
from axis.errors import PackageError

__all__ = ["DEFAULT_DIRECTORY", "Kind", "Schemas"]


def _bundled_directory() -> Path:
    """The schemas the package carries (``axis/edxml/schemas/``, listed in pyproject.toml's package-data).

    Both engines resolve ``xsd:include`` and ``xsd:import`` against files, so this must be a directory
    on disk: it is wherever the package is installed (pip unpacks wheels), never an archive.
    """
    directory = resources.files("axis.edxml") / "schemas"
    if not isinstance(directory, Path):
        raise RuntimeError(f"the edXML schemas are not files on disk ({directory}): install axis unpacked")
    return directory


#: The bundled schemas: ``axis/edxml/schemas/`` in a checkout and in an installed wheel alike.
DEFAULT_DIRECTORY: Final = _bundled_directory()

_FILES: Final = {Kind.DOCUMENT: "edxml-document.xsd", Kind.STATUS: "edxml-status.xsd"}

#: Named simple types of edxml-common.xsd -> (error code, what a valid value looks like). The type
#: names are a contract with the schema files: renaming a type there silently demotes its failures
#: to ``edxml.schema.invalid`` (the tests catch that).
_TYPE_CODES: Final[dict[str, tuple[str, str]]] = {
    "AgencyCode": (
        "edxml.agency_code.malformed",
        "an agency identifier code DDD.CC.BB.LNN such as 000.00.11.H53",
    ),
    "StatusCode": (
        "edxml.status_code.unknown",
        "a QCVN 102 status code (01, 02, 03, 04, 05, 06, 13, 15 or 16)",
    ),
    "BussinessDocType": (
        "edxml.business_doc_type.unknown",
        "0 (new), 1 (revoke), 2 (update) or 3 (replace)",
    ),
    "EdxmlDate": ("edxml.date.invalid", "a date written YYYY/MM/DD, DD/MM/YYYY or YYYY-MM-DD"),
    "OptionalDate": (
        "edxml.date.invalid",
        "empty or a date written YYYY/MM/DD, DD/MM/YYYY or YYYY-MM-DD",
    ),
    "Timestamp": (
        "edxml.timestamp.invalid",
        "a timestamp written 'YYYY/MM/DD HH:MM:SS', 'DD/MM/YYYY HH:MM:SS' or ISO 8601",
    ),
    "DocumentId": (
        "edxml.document_id.malformed",
        "a DocumentId '{sender code},{YYYY/MM/DD},{number}/{notation}'",
    ),
    # No code of their own, but a better reason than xmlschema's regular expression.
    "OptionalInteger": ("edxml.schema.invalid", "empty or an integer"),
    "PaperFlag": ("edxml.schema.invalid", "0 (electronic only) or 1 (a paper copy follows)"),
}
_INVALID: Final = "edxml.schema.invalid"

#: Attachment content is megabytes of base64, checked by the reader (binascii), not by the schema;
#: the explanation pass skips it so that explaining a refusal never walks megabytes in Python.
_ATTACHMENT: Final = ed("ContentTransferEncoded")
#: The XML Signature, and the edXML wrapper some SDKs put around it: failures inside either are
#: signature failures, and either one found where the schema allows no signature is a misplaced or a
#: second signature.
_SIGNATURE: Final = ds("Signature")
_SIGNATURE_WRAPPER: Final = ed("DigitalSignature")
_CERTIFICATE: Final = ds("X509Certificate")

#: Prefixes used in reported paths and by xmlschema in its reasons, whatever the package wrote.
_NAMESPACES: Final = {EDXML_PREFIX: EDXML_NS, "ds": DS_NS}
_PREFIXES: Final = {uri: prefix for prefix, uri in _NAMESPACES.items()}

#: Values quoted in messages are cut to this many characters (an attachment may be megabytes).
_QUOTE_LIMIT: Final = 80
_LIBXML2_MESSAGE_LIMIT: Final = 300
#: xmlschema already names the expected tags in some reasons ("Tag 'edXML:Code' expected.").
_SAYS_EXPECTED: Final = re.compile(r"\bexpected\b", re.IGNORECASE)


class Schemas:
    """The two edXML package schemas, loaded once and shared by every caller.

    Loading takes a while, so build one with :meth:`load` at start-up and reuse it. :meth:`validate`
    may be called from several threads at once: libxml2 schema objects are not documented as
    thread-safe (and lxml keeps each one's error log on the object), so every thread gets its own,
    built on first use; the xmlschema objects are read-only once built and are shared.
    """

    def __init__(self, directory: Path) -> None:
        """Prefer :meth:`load`, which also proves the schemas load before the first package."""
        self._directory = directory
        self._local = threading.local()
        self._lock = threading.Lock()
        self._explainers: dict[Kind, xmlschema.XMLSchema10] = {}

    @classmethod
    def load(cls, directory: Path | None = None) -> Schemas:
        """Load the schemas from ``directory`` (default: the bundled ones, :data:`DEFAULT_DIRECTORY`).

        The libxml2 schemas are built here, so a broken schema file fails at start-up; the slower
        xmlschema copies are built the first time a package has to be explained.
        """
        schemas = cls((directory or DEFAULT_DIRECTORY).resolve())
        for kind in Kind:
            schemas._libxml2(kind)
        return schemas

    @property
    def directory(self) -> Path:
        return self._directory

    def validate(self, root: etree._Element, kind: Kind) -> None:
        """Check ``root`` (an ``edXML`` element) against the ``kind`` package schema.

        Raises :class:`PackageError` with a stable code and ``path``, ``reason``, ``line`` (and,
        when known, ``expected``) in its details for the first problem in document order.
        """
        schema = self._libxml2(kind)
        if schema.validate(root):
            return
        refusal = _first_libxml2_error(schema)
        error = self._first_xmlschema_error(root, kind)
        if error is not None:
            raise _from_xmlschema(error, kind)
        raise _from_libxml2(kind, refusal)

    def _libxml2(self, kind: Kind) -> etree.XMLSchema:
        cache: dict[Kind, etree.XMLSchema] | None = getattr(self._local, "schemas", None)
        if cache is None:
            cache = self._local.schemas = {}
        schema = cache.get(kind)
        if schema is None:
            # The files carry no DTD; the parser is told not to look for one or for the network anyway.
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            schema = cache[kind] = etree.XMLSchema(etree.parse(str(self._path(kind)), parser))
        return schema

    def _explainer(self, kind: Kind) -> xmlschema.XMLSchema10:
        with self._lock:
            schema = self._explainers.get(kind)
            if schema is None:
                schema = self._explainers[kind] = xmlschema.XMLSchema10(
                    str(self._path(kind)),
                    allow="sandbox",  # only files under the schema directory
                    use_fallback=False,  # no bundled schemas for namespaces we did not import
                )
            return schema

    def _first_xmlschema_error(self, root: etree._Element, kind: Kind) -> xmlschema.XMLSchemaValidationError | None:
        resource = xmlschema.XMLResource(root, allow="none")  # the package may not load anything
        errors = self._explainer(kind).iter_errors(
            resource,
            namespaces=dict(_NAMESPACES),
            use_location_hints=False,
            validation_hook=_skip_attachment_content,
        )
        return next(errors, None)

    def _path(self, kind: Kind) -> Path:
        return self._directory / _FILES[kind]


def _skip_attachment_content(elem: Any, xsd_element: Any) -> bool:
    """xmlschema ``validation_hook``: true means "do not validate this element's content"."""
    return bool(getattr(elem, "tag", None) == _ATTACHMENT)


@dataclass(frozen=True)
class _Libxml2Error:
    message: str
    line: int | None
    path: str | None


def _first_libxml2_error(schema: etree.XMLSchema) -> _Libxml2Error | None:
    log: Any = schema.error_log  # lxml-stubs leave _ListErrorLog untyped
    for entry in log:
        return _Libxml2Error(message=str(entry.message), line=entry.line or None, path=entry.path or None)
    return None


def _from_xmlschema(error: xmlschema.XMLSchemaValidationError, kind: Kind) -> PackageError:
    element: Any = error.elem
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError) and error.invalid_child is not None:
        element = error.invalid_child  # point at the intruder, not at its parent
    types = list(_simple_types(error.validator))
    reason = error.reason or "invalid"
    value = _quote(_text(element))
    if types and value not in reason:
        reason = f"{value}: {reason}"  # most of xmlschema's value reasons omit the value
    code = _INVALID
    signature_code = _signature_code(element, misplaced=element is not error.elem, value=bool(types))
    if signature_code is not None:
        code = signature_code
    else:
        for simple_type in types:
            if simple_type.target_namespace == EDXML_NS and simple_type.local_name in _TYPE_CODES:
                code, shape = _TYPE_CODES[simple_type.local_name]
                reason = f"{value} is not {shape}"
                break
    expected = _expected(error)
    if expected and not _SAYS_EXPECTED.search(reason):
        reason = f"{reason} Expected one of: {', '.join(expected)}."
    return _package_error(code, kind, _path(element), reason, _line(element), expected)


def _from_libxml2(kind: Kind, refusal: _Libxml2Error | None) -> PackageError:
    """Explain a refusal xmlschema did not reproduce (a rare disagreement between the two
    engines): libxml2's own words are the best we have."""
    if refusal is None:
        return _package_error(_INVALID, kind, None, "refused without a reason", None, [])
    reason = refusal.message[:_LIBXML2_MESSAGE_LIMIT]
    return _package_error(_INVALID, kind, refusal.path, reason, refusal.line, [])


def _package_error(
    code: str, kind: Kind, path: str | None, reason: str, line: int | None, expected: list[str]
) -> PackageError:
    where = f" at {path}" if path else ""
    where += f" (line {line})" if line is not None else ""
    message = f"The package does not conform to the edXML {kind} schema{where}: {reason}"
    details: dict[str, Any] = {"path": path, "reason": reason, "line": line}
    if expected:
        details["expected"] = expected
    return PackageError(code, message, **details)


def _simple_types(validator: Any) -> Iterator[XsdSimpleType]:
    """The simple types enclosing ``validator`` (a facet or a type), innermost first: empty when the
    failure is about structure rather than a value.

    Only simple types count: an element declared with the name DocumentId is not the DocumentId type.
    """
    node = validator
    while node is not None:
        if isinstance(node, XsdSimpleType):
            yield node
        node = getattr(node, "parent", None)


def _expected(error: xmlschema.XMLSchemaValidationError) -> list[str]:
    """What the content model wanted instead: xmlschema's own list or, for an unexpected child of a
    choice or all group (where it gives none), every element that group allows. After a complete
    sequence the answer is "nothing more", so nothing is listed."""
    if not isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        return []
    names: list[str] = []
    for item in error.expected or ():
        name = getattr(item, "name", None)
        if isinstance(name, str):
            names.append(_qualified(name))
    if not names and isinstance(error.particle, XsdGroup) and error.particle.model in ("choice", "all"):
        for element in error.particle.iter_elements():
            if isinstance(element.name, str):
                names.append(_qualified(element.name))
    return names


def _signature_code(element: Any, *, misplaced: bool, value: bool) -> str | None:
    """The ``signature.*`` code for a failure that concerns the XML Signature, else None.

    A signature where edXML allows none (``misplaced``: the schema found it as an unexpected child,
    or inside an element that may hold only text) is ``signature.multiple`` when the package holds
    another one, else ``signature.location``: these name the attack (a second, hidden signature for a
    naive verifier to find) better than "schema invalid". Inside a signature, an unreadable
    certificate value is ``signature.certificate.malformed``; anything else ``signature.malformed``.
    """
    if not isinstance(element, etree._Element):
        return None
    inside = _signature_ancestry(element)
    carries = next(element.iter(_SIGNATURE), None) is not None
    if (misplaced and element.tag in (_SIGNATURE, _SIGNATURE_WRAPPER)) or (carries and not inside):
        signatures = sum(1 for _ in element.getroottree().iter(_SIGNATURE))
        return "signature.multiple" if signatures > 1 else "signature.location"
    if inside and value and any(node.tag == _CERTIFICATE for node in inside):
        return "signature.certificate.malformed"
    if inside:
        return "signature.malformed"
    return None


def _signature_ancestry(element: etree._Element) -> list[etree._Element]:
    """``element`` and those of its ancestors that belong to a signature (ds: elements, the wrapper)."""
    found: list[etree._Element] = []
    node: etree._Element | None = element
    while node is not None:
        tag = node.tag
        if isinstance(tag, str) and (tag == _SIGNATURE_WRAPPER or tag.startswith(f"{{{DS_NS}}}")):
            found.append(node)
        node = node.getparent()
    return found


def _path(element: Any) -> str | None:
    """An XPath to ``element`` with the prefixes edXML: and ds:, whatever the package wrote."""
    if not isinstance(element, etree._Element):
        return None
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        step = _qualified(str(node.tag))
        if node.getparent() is not None:
            before = sum(1 for _ in node.itersiblings(str(node.tag), preceding=True))
            after = next(node.itersiblings(str(node.tag)), None) is not None
            if before or after:
                step += f"[{before + 1}]"
        steps.append(step)
        node = node.getparent()
    return "/" + "/".join(reversed(steps))


def _qualified(clark: str) -> str:
    """``{ns}local`` -> ``edXML:local`` / ``ds:local``; other namespaces stay in Clark notation."""
    if not clark.startswith("{"):
        return clark
    uri, _, local = clark[1:].partition("}")
    prefix = _PREFIXES.get(uri)
    return f"{prefix}:{local}" if prefix else clark


def _line(element: Any) -> int | None:
    line: object = element.sourceline if isinstance(element, etree._Element) else None
    return line if isinstance(line, int) else None  # None for trees built in memory


def _text(element: Any) -> str:
    if not isinstance(element, etree._Element):
        return ""
    head = (element.text or "")[: 4 * _QUOTE_LIMIT]  # an element's text may be megabytes long
    return " ".join(head.split())


def _quote(value: str) -> str:
    if len(value) > _QUOTE_LIMIT:
        value = value[:_QUOTE_LIMIT] + "…"
    return repr(value)
