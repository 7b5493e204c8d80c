"""What ``credit lint`` reports: located findings, each an error or a warning with a code."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Location

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One finding, rendered as ``FILE:LINE:COL: severity: message [code]``."""

    location: Location
    severity: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message} [{self.code}]"

    def to_dict(self) -> dict:
        return {"location": str(self.location), "file": self.location.file,
                "line": self.location.line, "column": self.location.column,
                "severity": self.severity, "code": self.code, "message": self.message}
