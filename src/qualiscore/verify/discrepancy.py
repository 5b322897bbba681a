"""What ``verify`` found wrong: one kind, one file, a message, and where useful the two values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: str
    file: str
    message: str
    subject: str | None = None
    field: str | None = None  # a column, or a JSON pointer into a scorecard
    published: Any = None  # the field's value in the output, when a field differs
    recomputed: Any = None  # ... and in the recomputation
    details: tuple[str, ...] = ()  # lines shown under the message: what changed in a scheme, or why it cannot be shown

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.file, "message": self.message, "subject": self.subject,
                "field": self.field, "published": self.published, "recomputed": self.recomputed,
                "details": list(self.details)}
