"""The family of errors a user can cause.

Each carries a message that says what went wrong and what to do; the CLI prints it on one
line with a non-zero exit code, the web turns it into a 4xx page. Anything else is a bug.
"""


class KitError(Exception):
    """Base of every error caused by input, files or configuration (not by a bug)."""

    exit_code = 1


class ConfigError(KitError):
    """The data dir or a setting is missing or unusable."""


class TrustError(KitError):
    """A key file is missing, malformed, or not trusted."""


class ContentError(KitError):
    """A course source has problems; `problems` lists every one with file and line."""

    def __init__(self, message: str, problems: "list[Problem] | None" = None):
        super().__init__(message)
        self.problems = list(problems or [])


class QuizError(ContentError):
    """A quiz file (YAML or GIFT) cannot be read."""


class PackError(KitError):
    """A content pack is invalid, tampered with, untrusted or unsafe."""


class BundleError(KitError):
    """A progress bundle is invalid, tampered with, untrusted or unsafe."""


class SyncError(KitError):
    """A hub exchange failed in a way the user must act on."""


class UploadError(SyncError):
    """An upload's bytes are not the file it names (cut short or damaged): send it again."""


class RosterError(KitError):
    """A class, learner or staff account cannot be made or found as asked."""


class Problem:
    """One problem in a source file: where, and what."""

    __slots__ = ("path", "line", "message")

    def __init__(self, path: str, line: "int | None", message: str):
        self.path, self.line, self.message = str(path), line, message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"Problem({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and str(self) == str(other)
