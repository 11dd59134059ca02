"""Minimal OpenAPI 3.0 machinery: route matching plus JSON-Schema validation taken from the spec.

The Pinecone emulator must not drift from the real API, so instead of hand-writing request and
response shapes it asks this module, which reads them from the vendored OpenAPI document:

* which ``(method, path template)`` pairs exist and which parameters/body each one takes;
* whether a request parameter or body is valid, and *how* it is invalid (a type error is a
  deserialisation failure, an out-of-range value is a bad argument);
* whether a response body matches the schema documented for its status code.

Schemas are validated in place: every schema is addressed by its JSON pointer inside the spec
document, registered once in a ``referencing.Registry``, so ``$ref: '#/components/schemas/X'``
resolves without copying or rewriting the document.

OpenAPI 3.0 schema objects are a dialect of JSON Schema Draft 4 (``$ref`` siblings are ignored,
``exclusiveMinimum`` is a boolean), hence ``Draft4Validator``.  Annotation-only keywords
(``example``, ``discriminator``, ``description``...) are unknown to Draft 4 and therefore ignored.
``nullable: true`` (OpenAPI 3.0, used by the 2026-07 spec for fields such as a restore job's
``created_at``) is honoured: null is then valid whatever the schema's other keywords say.

Two deliberate strengthenings:

* ``x-enum`` (Pinecone's way of listing an open-ended enum's current values) *is* enforced.  The
  server deserialises these fields into Rust enums, so an unknown value is rejected for requests,
  and the emulator must never emit a value outside the list in responses.
* ``format`` is checked for ``date-time`` (RFC 3339), ``int32`` and ``int64``, so timestamps the
  emulator emits parse the way a client would parse real ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

__all__ = [
    "DESERIALIZATION_KEYWORDS",
    "OpenApiSpec",
    "Operation",
    "Parameter",
    "SchemaRef",
    "load_yaml",
]

#: Schema keywords whose failure means "the JSON could not be deserialised into the target type"
#: (HTTP 422 at Pinecone); every other failing keyword is a value constraint (HTTP 400).
DESERIALIZATION_KEYWORDS = frozenset(
    {"type", "required", "additionalProperties", "properties", "oneOf", "anyOf", "allOf", "x-enum", "enum"}
)


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster


class _JsonYamlLoader(_BaseLoader):  # type: ignore[valid-type,misc,unused-ignore]
    """A SafeLoader that keeps timestamps as strings.

    The spec contains unquoted examples such as ``2025-02-04 13:00:00+00:00``; PyYAML would turn
    them into ``datetime`` objects, which are not JSON values and would break error rendering.
    """


_JsonYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path) -> Any:
    """Parse a YAML file into plain JSON-compatible Python values."""
    with path.open("rb") as fh:
        return yaml.load(fh, Loader=_JsonYamlLoader)  # a SafeLoader subclass: no arbitrary objects


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

_format_checker = FormatChecker(formats=())


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


_format_checker.checks("date-time")(_is_date_time)
_format_checker.checks("int32")(_is_int32)
_format_checker.checks("int64")(_is_int64)


def _x_enum(validator: Validator, allowed: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if isinstance(allowed, list) and instance not in allowed:
        yield ValidationError(f"{instance!r} is not one of {allowed!r}")


def _allowing_null(keyword: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` (unknown to Draft 4): null is valid whatever the other keywords say."""

    def check(validator: Validator, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
        if instance is None and schema.get("nullable") is True:
            return
        yield from keyword(validator, value, instance, schema)

    return check


_KEYWORDS = {**Draft4Validator.VALIDATORS, "x-enum": _x_enum}
_OpenApiValidator = validators.extend(  # type: ignore[no-untyped-call,unused-ignore]
    Draft4Validator, {name: _allowing_null(keyword) for name, keyword in _KEYWORDS.items() if name != "$ref"}
)


@cache
def _load_cached(path: Path, mtime_ns: int) -> OpenApiSpec:
    return OpenApiSpec(path)


def _pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class SchemaRef:
    """A schema identified by its JSON pointer inside the spec document."""

    pointer: str


@dataclass(frozen=True)
class Parameter:
    """One ``parameters`` entry of an operation (header, query or path)."""

    name: str
    location: str
    required: bool
    schema: SchemaRef | None
    schema_type: str | None
    default: Any


@dataclass(frozen=True)
class Operation:
    """One ``(method, path template)`` of the spec, with what is needed to validate it."""

    method: str
    template: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    request_body: SchemaRef | None
    request_body_required: bool
    #: status code (as a string, e.g. "202") -> schema of the body, or None when the spec
    #: documents the status without a body.
    responses: Mapping[str, SchemaRef | None]
    _regex: re.Pattern[str] = field(repr=False, compare=False)
    #: status code -> media type of the documented body ("application/json", or "text/plain" for a
    #: 401 in 2026-07), or None without a body.
    response_media: Mapping[str, str | None] = field(default_factory=dict)

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` matches this operation's template, else None."""
        m = self._regex.fullmatch(path)
        return None if m is None else m.groupdict()

    @property
    def literal_segments(self) -> int:
        """How many template segments are literal; more literal segments win a routing tie."""
        return sum(1 for seg in self.template.split("/") if seg and not seg.startswith("{"))


class OpenApiSpec:
    """A loaded OpenAPI 3.0 document with routing and validation helpers.

    Use :meth:`load` rather than the constructor: parsing the control-plane spec takes a noticeable
    fraction of a second and every test starts a fresh emulator, so parsed specs are shared.
    Instances are treated as immutable.
    """

    @classmethod
    def load(cls, path: Path) -> OpenApiSpec:
        """The parsed spec at ``path``, cached per resolved path and modification time."""
        resolved = path.resolve()
        return _load_cached(resolved, resolved.stat().st_mtime_ns)

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document: dict[str, Any] = load_yaml(path)
        if not str(self.document.get("openapi", "")).startswith("3.0"):
            raise ValueError(f"{path}: expected an OpenAPI 3.0 document")
        self.version: str = str(self.document["info"]["version"])
        self._uri = f"urn:openapi:{path.name}"
        self._registry: Registry[Any] = Registry().with_resource(self._uri, DRAFT4.create_resource(self.document))
        self.operations: tuple[Operation, ...] = tuple(self._load_operations())

    # -- routing -----------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving ``method path`` and its path parameters, or None if undocumented.

        Literal segments beat parameters, so ``POST /indexes/create-for-model`` is not mistaken
        for an operation on an index called "create-for-model".
        """
        candidates = [
            (op, params)
            for op in self.operations
            if op.method == method.upper() and (params := op.match(path)) is not None
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda c: c[0].literal_segments)

    def operation(self, operation_id: str) -> Operation:
        """Look an operation up by ``operationId``."""
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    # -- validation --------------------------------------------------------------------------

    def component(self, name: str) -> SchemaRef:
        """``#/components/schemas/<name>``, checked to exist."""
        if name not in self.document.get("components", {}).get("schemas", {}):
            raise KeyError(f"{self.path.name} has no schema component {name!r}")
        return SchemaRef(f"/components/schemas/{name}")

    def errors(self, schema: SchemaRef, instance: Any) -> list[ValidationError]:
        """All validation errors of ``instance`` against ``schema``, most relevant first."""
        errors = list(self._validator(schema.pointer).iter_errors(instance))
        errors.sort(key=lambda e: (len(e.absolute_path), str(list(e.absolute_path))))
        return errors

    @staticmethod
    def describe(errors: list[ValidationError]) -> str:
        """A one-line, human-oriented summary of the most relevant error."""
        error = best_match(errors)
        where = "/".join(str(p) for p in error.absolute_path) or "<root>"
        return f"{where}: {error.message}"

    @cache  # noqa: B019 - one spec object per test session; validators are worth caching
    def _validator(self, pointer: str) -> Validator:
        return _OpenApiValidator(  # type: ignore[no-any-return,unused-ignore]
            {"$ref": f"{self._uri}#{pointer}"},
            registry=self._registry,
            format_checker=_format_checker,
        )

    # -- loading -----------------------------------------------------------------------------

    def _resolve(self, node: Any) -> tuple[Any, str | None]:
        """Follow a local ``$ref`` (parameters and responses may be references)."""
        pointer = None
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref!r}")
            pointer = ref[1:]
            node = self.document
            for token in pointer.split("/")[1:]:
                node = node[token.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def _load_operations(self) -> Iterator[Operation]:
        for template, path_item in self.document.get("paths", {}).items():
            item_pointer = f"/paths/{_pointer_token(template)}"
            shared = path_item.get("parameters", [])
            for method, op in path_item.items():
                if method not in {"get", "put", "post", "delete", "patch", "head", "options"}:
                    continue
                op_pointer = f"{item_pointer}/{method}"
                params = [self._parameter(p, f"{item_pointer}/parameters/{i}") for i, p in enumerate(shared)]
                params += [
                    self._parameter(p, f"{op_pointer}/parameters/{i}") for i, p in enumerate(op.get("parameters", []))
                ]
                body, body_required = self._request_body(op, op_pointer)
                responses = self._responses(op, op_pointer)
                yield Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op.get("operationId", f"{method} {template}"),
                    parameters=tuple(params),
                    request_body=body,
                    request_body_required=body_required,
                    responses={status: schema for status, (schema, _) in responses.items()},
                    _regex=self._template_regex(template),
                    response_media={status: media for status, (_, media) in responses.items()},
                )

    def _parameter(self, raw: Any, pointer: str) -> Parameter:
        param, ref_pointer = self._resolve(raw)
        base = ref_pointer or pointer
        schema = param.get("schema")
        return Parameter(
            name=param["name"],
            location=param["in"],
            required=bool(param.get("required", param["in"] == "path")),
            schema=SchemaRef(f"{base}/schema") if schema is not None else None,
            schema_type=self._resolve(schema)[0].get("type") if schema is not None else None,
            default=self._resolve(schema)[0].get("default") if schema is not None else None,
        )

    def _request_body(self, op: dict[str, Any], op_pointer: str) -> tuple[SchemaRef | None, bool]:
        if "requestBody" not in op:
            return None, False
        body, ref_pointer = self._resolve(op["requestBody"])
        base = ref_pointer or f"{op_pointer}/requestBody"
        if "application/json" not in body.get("content", {}):
            # e.g. the data plane's NDJSON upsert: routable, but the body is not schema-checked.
            return None, bool(body.get("required", False))
        return SchemaRef(f"{base}/content/application~1json/schema"), bool(body.get("required", False))

    def _responses(self, op: dict[str, Any], op_pointer: str) -> dict[str, tuple[SchemaRef | None, str | None]]:
        out: dict[str, tuple[SchemaRef | None, str | None]] = {}
        for status, raw in op.get("responses", {}).items():
            response, ref_pointer = self._resolve(raw)
            base = ref_pointer or f"{op_pointer}/responses/{_pointer_token(str(status))}"
            content = response.get("content", {})
            media = next((m for m in ("application/json", "text/plain") if m in content), None)
            schema = SchemaRef(f"{base}/content/{_pointer_token(media)}/schema") if media is not None else None
            out[str(status)] = (schema, media)
        return out

    @staticmethod
    def _template_regex(template: str) -> re.Pattern[str]:
        pattern = ""
        for piece in re.split(r"(\{[^}/]+\})", template):
            if piece.startswith("{") and piece.endswith("}"):
                pattern += f"(?P<{piece[1:-1]}>[^/]+)"
            else:
                pattern += re.escape(piece)
        return re.compile(pattern)
