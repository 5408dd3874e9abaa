"""Description: text only, no answer; pages show it above the question that follows it."""

from __future__ import annotations

from .answers import check_no_answers
from .model import QuestionType

TYPE = QuestionType("description", check_no_answers)
