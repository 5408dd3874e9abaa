"""The teachers' pages under /staff: who learned what, and (for admins) the roster.
Who may see what, and how staff sessions end, is in blueprint.py.
"""

from .blueprint import bp
from . import admin, progress, signin  # routes register on bp when imported

__all__ = ["bp"]
