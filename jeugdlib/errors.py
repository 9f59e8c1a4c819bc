"""User-facing errors.

Anything that is the user's input's fault raises :class:`JeugdlibError` with a
one-line message naming the file (and record) and what to do. The command line
prints that line on stderr and exits non-zero, never a traceback.
"""


class JeugdlibError(Exception):
    """An error caused by the input or the invocation, shown to the user as one line."""

    exit_code = 2

    def __init__(self, message: str, *, path=None, record=None):
        where = ""
        if path is not None:
            where = f"{path}"
            if record is not None:
                where += f" [{record}]"
            where += ": "
        super().__init__(f"{where}{message}")
        self.path = path
        self.record = record
