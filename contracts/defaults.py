"""The contracts a new scheme starts with, written in plain English for this project.

Placeholders in {{ double braces }} are filled from the match when a contract is made.
"""

from typing import Any

MATCH = {
    "title": "Buddy agreement",
    "clauses": [
        {
            "heading": "Who this is between",
            "text": "This agreement is between {{ participant }} (the person being supported), {{ buddy }} (the buddy) and {{ coordinator }} (the coordinator). It helps us all know what to expect.",
        },
        {
            "heading": "What buddying is",
            "text": "A buddy is a trained volunteer, not a friend, carer or professional adviser. The buddy helps the person do things for themselves.",
        },
        {
            "heading": "How often we meet",
            "text": "We will meet {{ frequency }}, for {{ meeting_length }} each time. We will agree each meeting in advance, and the buddy will log it with the scheme.",
        },
        {
            "heading": "How we keep in touch",
            "text": "We will keep in touch by {{ contact_means }}, only {{ contact_hours }}. We will not share other personal numbers or social media.",
        },
        {"heading": "What the buddy will help with", "text": "{{ will_do }}"},
        {"heading": "What the buddy will not do", "text": "The buddy will not {{ wont_do }}."},
        {
            "heading": "Confidentiality",
            "text": "What we talk about stays between us and the scheme. The buddy talks to the coordinator for support, using initials only.",
        },
        {
            "heading": "When confidentiality must be broken",
            "text": "If someone is at risk of serious harm, or the law requires it, the buddy must tell the coordinator straight away. We will tell you when we can.",
        },
        {
            "heading": "Stopping at once",
            "text": "Either of us can stop the buddying at any time, without giving a reason. Call {{ coordinator }} on {{ coordinator_phone }}. Nobody will be in trouble for stopping.",
        },
        {
            "heading": "Review and ending",
            "text": "We will review how things are going on {{ review_date }}. Buddying ends when the goals are met, or at the review. We will plan the next steps together.",
        },
        {
            "heading": "Support",
            "text": "The buddy's named support person is {{ support_person }}. The person being supported can also contact the coordinator at any time.",
        },
    ],
    "easy_read": "We meet {{ frequency }}.\nWe keep in touch by {{ contact_means }}.\nWhat we say stays private.\nIf someone may be hurt, the buddy must tell the coordinator.\nYou can stop at any time.\nCall {{ coordinator }} on {{ coordinator_phone }}.\nWe check how it is going on {{ review_date }}.",
}

VOLUNTEER = {
    "title": "Buddy volunteer agreement",
    "clauses": [
        {
            "heading": "Your role",
            "text": "As a buddy you support one person at a time to reach their own goals. You are a volunteer: there is no contract of employment.",
        },
        {
            "heading": "Our commitment to you",
            "text": "We will train you, give you a named support person, phone you every month and offer one-to-one supervision every two months.",
        },
        {
            "heading": "Your commitment",
            "text": "You will log every meeting before it happens, check in and out of every meeting, and write a short debrief afterwards using initials only.",
        },
        {
            "heading": "Lone working",
            "text": "You will follow the lone-working procedure. If you feel unsafe, leave and use the help button, or call 999.",
        },
        {
            "heading": "Confidentiality and safeguarding",
            "text": "You will keep what you hear confidential, except where someone is at risk of harm: then you tell the coordinator at once.",
        },
        {
            "heading": "Checks",
            "text": "You agree to a DBS check and to keep your training up to date. You cannot be matched while a check has lapsed.",
        },
        {
            "heading": "Leaving",
            "text": "You can stop volunteering at any time. Please tell us so we can support the person you buddy.",
        },
    ],
    "easy_read": "You help one person at a time.\nWe train and support you.\nLog every meeting.\nCheck in and out.\nKeep things private, unless someone may be hurt.\nYou can stop at any time.",
}

GROUP = {
    "title": "Group agreement and ground rules",
    "clauses": [
        {
            "heading": "What is said here stays here",
            "text": "We do not repeat outside the group who came or what anyone said.",
        },
        {
            "heading": "Respect",
            "text": "We listen, we take turns, and we do not judge. We use people's chosen names and pronouns.",
        },
        {
            "heading": "Safety",
            "text": "If someone may be at risk of harm, the facilitators must act on it. They will tell the person when they can.",
        },
        {
            "heading": "Leaving the group",
            "text": "You can leave at any time. The facilitators may ask someone to leave if they make the group unsafe.",
        },
        {
            "heading": "Complaints",
            "text": "If you are unhappy with anything, tell a facilitator or contact {{ coordinator }}.",
        },
    ],
    "easy_read": "What is said here stays here.\nBe kind. Take turns.\nIf someone may be hurt, we must act.\nYou can leave at any time.",
}

DEFAULTS: dict[str, dict[str, Any]] = {"match": MATCH, "volunteer": VOLUNTEER, "group": GROUP}
