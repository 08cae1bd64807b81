"""Exceptions btflearn raises for problems the user can fix (bad files, bad options)."""


class BtfError(Exception):
    """Base class: a clear, user-facing error (the CLI prints it without a traceback)."""


class FormatError(BtfError):
    """A malformed input file; names the file and, where known, the line."""

    def __init__(self, path, message, line=None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ArchitectureError(BtfError):
    """An architecture that does not fit the data or is not a valid network."""


class NotSolvedError(BtfError):
    """A model that does not reproduce its training data where an exact one is required."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a fit with a checkpoint: the checkpoint is saved and ``result`` holds the run as it
    stood (the best read-out of every trial so far), so a caller can still write it out."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result
