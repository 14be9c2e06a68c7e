"""Rapport's starter modules for the relatives' space, written for Rapport in plain words.

Not copied from REACT or any other toolkit. They state no clinical facts: they describe how the
space and the service work and suggest everyday steps, and point to published NHS and charity pages
(docs/relatives.md lists them as sources). Admins edit them like any module (a new version each time).
"""

STARTER_MODULES = [
    {
        "title": "Looking after yourself as a relative",
        "summary": "Supporting someone can take a lot out of you. This module is about your own needs.",
        "sections": [
            ("You matter too", [
                ("Why your own wellbeing counts",
                 "Many relatives put the person they care about first, every time. That is understandable. "
                 "But you will find it harder to help if you are worn out.\n\n"
                 "Looking after yourself is not selfish. It is part of being able to keep going."),
                ("Noticing how you are",
                 "Take a moment to ask yourself a few questions. Am I sleeping? Am I eating? When did I last do "
                 "something I enjoy? Who have I talked to this week about how I feel?\n\n"
                 "If the answers worry you, it may be time to ask for some help for yourself."),
            ]),
            ("Getting support", [
                ("People you can talk to",
                 "You do not have to manage on your own. You can write to a supporter here: they are people "
                 "trained to listen and to share information. They give information, not advice, and they "
                 "cannot see anyone's care records.\n\n"
                 "Other relatives in the forum may have been through something similar. Your own GP can "
                 "also help with how you are feeling."),
                ("A carer's assessment",
                 "If you look after someone, you can ask your local council for a carer's assessment. It looks "
                 "at what would make caring easier for you. The NHS page listed under Resources explains how "
                 "to ask for one."),
            ]),
        ],
        "resources": [
            {"title": "NHS: Carer's assessments", "url": "https://www.nhs.uk/conditions/social-care-and-support-guide/support-and-benefits-for-carers/carer-assessments/",
             "description": "What a carer's assessment is and how to ask your council for one."},
            {"title": "Carers UK", "url": "https://www.carersuk.org/",
             "description": "A charity for carers: information and a helpline."},
        ],
    },
    {
        "title": "When you are worried about someone",
        "summary": "What you can do, and who to contact, when you are worried about the person you support.",
        "sections": [
            ("Talking about your worries", [
                ("Starting a conversation",
                 "It can be hard to know what to say. You could start by saying what you have noticed, calmly, "
                 "and asking how they are. Listening is often more useful than trying to fix things.\n\n"
                 "They may not want to talk straight away. You can let them know you are there when they do."),
                ("Sharing your worries with the team",
                 "You can always tell the person's care team what worries you. What the team can tell you back "
                 "depends on what the person has agreed to share: Rapport only shows you what they have "
                 "chosen to share with you."),
            ]),
            ("If you are worried about their safety", [
                ("Getting help quickly",
                 "If someone's life is in danger, call 999.\n\n"
                 "For urgent help with mental health, call NHS 111 and choose the mental health option.\n\n"
                 "A supporter here cannot respond in an emergency: messages may not be read straight away."),
            ]),
        ],
        "resources": [
            {"title": "NHS: Where to get urgent help for mental health",
             "url": "https://www.nhs.uk/nhs-services/mental-health-services/where-to-get-urgent-help-for-mental-health/",
             "description": "Who to contact, day or night, when someone needs help urgently."},
            {"title": "Rethink Mental Illness: support for carers", "url": "https://www.rethink.org/",
             "description": "A charity with information for families and friends."},
        ],
    },
]
