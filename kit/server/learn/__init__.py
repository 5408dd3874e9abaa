"""The learners' pages: sign-in, courses, lessons, quizzes and search.
Who is signed in, and when a session ends, is in blueprint.py.
"""

from .blueprint import bp
from . import courses, quiz, search, signin  # routes register on bp when imported

__all__ = ["bp"]
