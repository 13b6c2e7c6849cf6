"""Payload schemas for AsyncAPI documents: self-contained JSON Schema for handlers that read raw bytes."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, WithJsonSchema


def inline_schema(annotation: Any) -> dict[str, Any]:
    """A self-contained JSON Schema (no $defs), as an AsyncAPI document embeds it."""
    schema = TypeAdapter(annotation).json_schema()
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def payload_schema(annotation: Any) -> WithJsonSchema:
    """For `Annotated[Any, payload_schema(Event)]`: a handler parameter the framework does not validate (the
    handler decodes the bytes itself, to reject bad input with its original bytes) that still documents the real
    payload schema."""
    return WithJsonSchema(inline_schema(annotation))
