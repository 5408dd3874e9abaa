"""The learners' pages: sign-in, courses, lessons, quizzes and search.

A learner is known by the session cookie (learner id and class id, for weeks); every page
that shows progress first checks that the learner still exists in that class, so a learner
deleted or moved by a teacher (or by sync) is signed out at their next tap.
"""

from .blueprint import bp
from . import courses, quiz, search, signin  # routes register on bp when imported

__all__ = ["bp"]
