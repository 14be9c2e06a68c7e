"""The consent purposes Rapport's own rules depend on, each with its first wording.

Plain-English wording written for this service; a trust's information governance team replaces it by
publishing a new version (POST /api/v1/consent/purposes/{code}/wordings/), never by editing this one.
Used by migration 0002 (with historical models) and by tests that empty the database.
"""

import datetime

PURPOSES = [
    (
        "remote_care", "Receiving care remotely",
        "Being seen by your care team by video or phone instead of in person.",
        False,
        "I agree to have some of my appointments by video or phone. I understand that I can ask for a "
        "face-to-face appointment at any time, and that choosing remote care will not change the care I get.",
    ),
    (
        "video", "Being seen on video",
        "Video calls with your care team through Rapport. Calls are not recorded.",
        False,
        "I agree to video calls with my care team through Rapport. The calls are private and are not recorded. "
        "I will try to be somewhere private. I can switch to a phone call or a face-to-face appointment at any time.",
    ),
    (
        "carer_involvement", "Involving a named carer",
        "Sharing your appointment times, and if you choose your questionnaire scores, with a carer, friend or family member you name.",
        True,
        "I agree that the person I have named can see when my appointments are, and can join a session when I "
        "invite them. If I choose, they can also see my questionnaire scores. I can stop this at any time, and "
        "they will lose access straight away.",
    ),
    (
        "evaluation", "Use of pseudonymised data for service evaluation",
        "Using your appointment and questionnaire data, with your name and details removed, to check whether care works.",
        False,
        "I agree that information about my appointments and questionnaires can be used to check how well the "
        "service works. My name, contact details and anything I write in my own words are removed first, so "
        "the people doing the evaluation cannot tell who I am. I can withdraw at any time and I will be left "
        "out of every later evaluation.",
    ),
]


def seed_catalogue(purpose_model, wording_model) -> None:
    """Create any missing seeded purpose with its version-1 wording. Idempotent."""
    for code, name, description, names_a_carer, text in PURPOSES:
        purpose, created = purpose_model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "names_a_carer": names_a_carer}
        )
        if created:
            wording_model.objects.create(purpose=purpose, version=1, text=text, effective_from=datetime.date(2026, 1, 1))
