"""Message texts from Jinja2 templates: subject, plain text and HTML in the recipient's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from verbund_schemas import Language

_MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip


def format_date(day: dt.date, language: str) -> str:
    if language == Language.DE:
        return f"{day.day}. {_MONTHS_DE[day.month - 1]} {day.year}"
    return f"{day.day} {day.strftime('%B')} {day.year}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer:
    """Templates live in templates/{de,en}/<name>.j2, each with blocks subject, text and html."""

    def __init__(self) -> None:
        # Autoescaping is switched on inside the html blocks only; subject and text are plain.
        self._env = Environment(
            loader=PackageLoader("verbund_notifier", "templates"),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self._env.filters["date"] = format_date

    def render(self, name: str, language: Language, context: dict[str, Any]) -> Rendered:
        template = self._env.get_template(f"{language.value}/{name}.j2")
        ctx = template.new_context({**context, "language": language.value})
        parts = {block: "".join(template.blocks[block](ctx)).strip() for block in ("subject", "text", "html")}
        return Rendered(subject=" ".join(parts["subject"].split()), text=parts["text"] + "\n", html=parts["html"])
