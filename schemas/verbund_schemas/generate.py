"""Writes the JSON Schema of every event into schemas/json/ (run by `make docs`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .catalog import ALL_TYPES

JSON_DIR = Path(__file__).resolve().parents[1] / "json"


def render_json_schemas() -> dict[str, str]:
    """File name -> content, for every event type."""
    out: dict[str, str] = {}
    for cls in ALL_TYPES:
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://verbund.dev/schemas/{cls.EVENT_TYPE}.json"
        out[f"{cls.EVENT_TYPE}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_json_schemas(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_json_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_json_schemas():
        sys.stdout.write(f"wrote {p}\n")
