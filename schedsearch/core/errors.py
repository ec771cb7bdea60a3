"""The errors a user can cause, defined where every layer (and the CLI, without loading the
layer that raises them) can name them. Each message is one readable line."""

from __future__ import annotations


class UserError(Exception):
    """An error in what the user asked for: the CLI prints it as one line, exit code 2."""


class StudyExists(UserError, ValueError):
    pass


class StudyNotFound(UserError, LookupError):
    pass


class DatasetError(UserError, RuntimeError):
    """A dataset that cannot be had (absent offline, malformed, unknown name)."""


class DatabaseUnavailable(UserError, RuntimeError):
    """The database cannot be reached (down, restarting, wrong host or port); the message
    names its URL without the password."""


class BadDatabaseUrl(UserError, ValueError):
    """A database URL SQLAlchemy cannot use (unknown scheme, missing driver, malformed)."""


class SchemaError(UserError, RuntimeError):
    """The database's schema is not the one this schedsearch runs on."""


class LeaseNotFound(UserError, LookupError):
    """No lease has that id (HTTP 404)."""


class LeaseConflict(UserError, RuntimeError):
    """The lease cannot do that now: it ended or expired, a finish disagrees with the one
    recorded, or the study's trials are not leased (HTTP 409)."""


class NotYourLease(UserError, PermissionError):
    """The lease was taken with another token (HTTP 403)."""


class BadReport(UserError, ValueError):
    """A report or finish that the study cannot take, e.g. an epoch past the trial's end
    (HTTP 422); the message names the field."""
