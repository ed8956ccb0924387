"""Shared data for recruitment tests: a published front door and a filled-in application."""

from recruitment.models import FrontDoor


def publish_front_door(scheme, **overrides) -> FrontDoor:
    fields = {
        "is_published": True,
        "public_title": "North Buddies",
        "offer": "Weekly visits from a trained volunteer buddy.",
        "who_for": "Adults in the north of the city who would like some company.",
        "how_to_volunteer": "Buddies give two hours a week.",
        "complaints_contact": "Write to the manager, manager@example.org.",
        **overrides,
    }
    return FrontDoor.objects.create(scheme=scheme, **fields)


def application_post(email="sam@example.org", **overrides) -> dict:
    data = {
        "first_name": "Sam",
        "last_name": "Okafor",
        "email": email,
        "phone": "07700 900123",
        "motivation": "I had a buddy once and it made a difference.",
        "experience": "Helpline volunteer for two years.",
        "skills_languages": "Yoruba, English",
        "availability": "Tuesday evenings",
        "heard_from": "event",
        "referee1_name": "Ruth Mensah",
        "referee1_email": "ruth@example.org",
        "referee1_relationship": "Manager",
        "referee1_known_for": "4 years",
        "referee2_name": "Tom Reyes",
        "referee2_email": "tom@example.org",
        "referee2_relationship": "Volunteer coordinator",
        "referee2_known_for": "2 years",
        "consent_to_checks": "on",
        "website": "",
        **overrides,
    }
    return data


def application_arguments(email="sam@example.org", **overrides) -> dict:
    data = {
        "first_name": "Sam",
        "last_name": "Okafor",
        "email": email,
        "phone": "07700 900123",
        "motivation": "I had a buddy once.",
        "availability": "Tuesday evenings",
        "heard_from": "event",
        "consent_to_checks": True,
        "referees": [
            {
                "name": "Ruth Mensah",
                "email": "ruth@example.org",
                "relationship": "Manager",
                "known_for": "4 years",
            },
            {
                "name": "Tom Reyes",
                "email": "tom@example.org",
                "relationship": "Volunteer coordinator",
                "known_for": "2 years",
            },
        ],
        **overrides,
    }
    return data
