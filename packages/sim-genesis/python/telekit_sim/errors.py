"""Errors the sidecar answers with: a code, a message, and where known the file, line or field."""


class SimError(Exception):
    def __init__(
        self, code: str, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def to_wire(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.file is not None:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        if self.field is not None:
            out["field"] = self.field
        return out
