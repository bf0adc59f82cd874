"""The one error the command line turns into a one-line message and exit code 2.

Every component raises its own documented exceptions; at the CLI edge the ones a user can act on
are converted to `UserError(what happened, what to do)`.
"""

__all__ = ["UserError"]


class UserError(Exception):
    """A problem the user can fix: printed as one line, no traceback, exit code 2."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message
