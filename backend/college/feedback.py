"""The college's course feedback form, defined as data.

This is Rapport's own plain service feedback form, written for Rapport. It is NOT a validated measure and
its answers are not scored or compared against any norm: it asks students what they thought of a run so
the college can improve it. Changing a question makes a new `VERSION`; answers keep the version they
were given against.
"""

from __future__ import annotations

VERSION = "rapport-course-feedback-1"
LABEL = "Rapport's own course feedback form (not a validated measure)"

AGREEMENT = [
    ("strongly_agree", "Strongly agree"),
    ("agree", "Agree"),
    ("neither", "Neither agree nor disagree"),
    ("disagree", "Disagree"),
    ("strongly_disagree", "Strongly disagree"),
]

# Each question: key, wording, kind ("choice" with options, or "text" with a maximum length), required.
QUESTIONS = [
    {"key": "welcome", "text": "I felt welcome on this course.", "kind": "choice", "options": AGREEMENT, "required": True},
    {"key": "useful", "text": "What I learned will be useful to me.", "kind": "choice", "options": AGREEMENT, "required": True},
    {"key": "lived_experience", "text": "Hearing from trainers with lived experience helped me.", "kind": "choice", "options": AGREEMENT, "required": True},
    {"key": "recommend", "text": "I would recommend this course to someone else.", "kind": "choice", "options": AGREEMENT, "required": True},
    {"key": "comments", "text": "Anything else you would like to tell us? (optional)", "kind": "text", "max_length": 2000, "required": False},
]


def check_answers(answers: object) -> dict[str, str]:
    """The answers cleaned, or ValueError naming the question key and what is wrong (the service turns it into
    InvalidInput). Unknown keys are refused, as with every input in Rapport."""
    if not isinstance(answers, dict):
        raise ValueError("answers", "Send the answers as an object of question key to answer.")
    known = {q["key"]: q for q in QUESTIONS}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise ValueError(unknown[0], f"There is no question {unknown[0]!r} on this form.")
    cleaned = {}
    for key, question in known.items():
        value = answers.get(key, "")
        if not isinstance(value, str):
            raise ValueError(key, "Give this answer as text.")
        value = value.strip()
        if not value:
            if question["required"]:
                raise ValueError(key, "Choose an answer.")
            continue
        if question["kind"] == "choice" and value not in {code for code, _ in question["options"]}:
            raise ValueError(key, "Choose one of the answers given.")
        if question["kind"] == "text" and len(value) > question["max_length"]:
            raise ValueError(key, f"Keep this to {question['max_length']} characters.")
        cleaned[key] = value
    return cleaned
