"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class StudybotError(Exception):
    """A problem the user can act on; its message is one line that says what to do."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
