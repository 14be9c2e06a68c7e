"""The two checks on what relatives write: words that suggest risk (flagged to supporters) and names
of people the organisation cares for (refused).

Neither is a clinical judgement. The risk list is a configurable prompt for a person to look
(RelativesSettings.risk_words; DEFAULT_RISK_WORDS when empty): a match flags the item for the
organisation's supporters and shows the writer the crisis numbers; it never blocks, scores or
diagnoses. docs/relatives.md says how to change the list and why it will miss things and over-flag.
"""

from __future__ import annotations

import re

# Phrases a supporter would want to see at once. Plain words people use, not a screening tool.
DEFAULT_RISK_WORDS = (
    "suicide", "suicidal", "kill myself", "kill himself", "kill herself", "kill themselves", "end my life",
    "end it all", "want to die", "wants to die", "better off dead", "self-harm", "self harm", "hurt myself",
    "hurting himself", "hurting herself", "hurting themselves", "overdose", "not safe", "no reason to live",
)


def risk_words_of(setting_text: str) -> list[str]:
    words = [line.strip().lower() for line in (setting_text or "").splitlines() if line.strip()]
    return words or list(DEFAULT_RISK_WORDS)


def _whole(phrase: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(part) for part in phrase.split()) + r"(?!\w)", re.IGNORECASE)


def risk_words_in(text: str, words: list[str]) -> list[str]:
    """The listed words or phrases that `text` contains as whole words (any case, any spacing)."""
    return [word for word in words if _whole(word).search(text)]


_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def names_in(text: str, names: set[str]) -> bool:
    """Whether `text` contains any of `names` as a whole word, case-insensitive (possessives count:
    "Sam's" is "Sam"). Answers only yes or no, so the writer is not told whose name it was."""
    for match in _WORD.finditer(text):
        word = match.group(0).lower()
        for candidate in (word, re.sub(r"['’]s$", "", word)):
            if candidate in names:
                return True
    return False
