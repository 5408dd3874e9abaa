"""The teachers' pages under /staff: who learned what, and (for admins) the roster.

Staff sign in with a username and password (kit.core.accounts; tries limited by kit.core.signin).
Their session lives under its own keys (`staff`, `staff_at`) and never beside a learner's:
signing in as staff ends a learner's session on that browser and a learner signing in ends the staff one (kit.server.learn clears
the session), so a teacher's phone lent to a learner never carries the teacher's rights. It
also ends after STAFF_HOURS, or when the account's password changes. A learner's session
gets a 403 on every page here.

Who sees what (docs/design.md, least privilege): an admin sees and does everything; a coach sees
only the classes this server's admin assigned them (kit.core.accounts), and changes nothing.
"""

from .blueprint import bp
from . import admin, progress, signin  # routes register on bp when imported

__all__ = ["bp"]
