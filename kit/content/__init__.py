"""Content: course sources → signed packs → installed lessons, quizzes, media and search index.

Knows nothing of pages or of how packs travel.
"""
