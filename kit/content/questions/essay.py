"""Essay: a typed text kept for the teacher (kit/server/reports lists it); never auto-graded."""

from __future__ import annotations

from .answers import check_no_answers
from .model import QuestionType, read_typed

TYPE = QuestionType("essay", check_no_answers, read_form=read_typed)
