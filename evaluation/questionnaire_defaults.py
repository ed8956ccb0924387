"""The questionnaires every scheme starts with: the ONS4 personal wellbeing questions in ONS's
wording (0-10), an exit feedback form for participants (with the quotes consent) and a buddy
questionnaire on what the buddy got from it (mutual benefit)."""

from typing import Any

from .models import Audience, Purpose, QuestionKind

QUOTE_CONSENT = "quote_consent"
YES, NO = "Yes", "No"

ONS4_MEASURES = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
ONS4_INTRO = (
    "Next are four questions about your feelings on parts of your life. There are no right or "
    "wrong answers."
)
ONS4_QUESTIONS = [
    {
        "code": "life_satisfaction",
        "text": "Overall, how satisfied are you with your life nowadays?",
        "low_label": "Not at all satisfied",
        "high_label": "Completely satisfied",
        "help_text": "Choose a number from 0 to 10. 0 means not at all. 10 means completely.",
    },
    {
        "code": "worthwhile",
        "text": "Overall, to what extent do you feel that the things you do in your life are "
        "worthwhile?",
        "low_label": "Not at all worthwhile",
        "high_label": "Completely worthwhile",
        "help_text": "Do the things you do feel useful or worth doing? 0 means not at all. 10 "
        "means completely.",
    },
    {
        "code": "happiness",
        "text": "Overall, how happy did you feel yesterday?",
        "low_label": "Not at all happy",
        "high_label": "Completely happy",
        "help_text": "Think about yesterday only. 0 means not at all happy. 10 means completely "
        "happy.",
    },
    {
        "code": "anxiety",
        "text": "On a scale where 0 is not at all anxious and 10 is completely anxious, overall, "
        "how anxious did you feel yesterday?",
        "low_label": "Not at all anxious",
        "high_label": "Completely anxious",
        "help_text": "Anxious means worried or nervous. Think about yesterday only. Here a "
        "lower number is better.",
    },
]

EXIT_QUESTIONS = [
    {
        "text": "How much has having a buddy helped you?",
        "kind": QuestionKind.SINGLE,
        "choices": ["A lot", "A little", "Not much", "Not at all"],
        "help_text": "Choose the answer closest to how you feel.",
    },
    {
        "text": "I feel more confident than before I had a buddy.",
        "kind": QuestionKind.LIKERT,
        "help_text": "Say how much you agree.",
    },
    {
        "text": "What did your buddy help you with?",
        "kind": QuestionKind.MULTIPLE,
        "choices": [
            "Someone to talk to",
            "Going to appointments",
            "Getting out and about",
            "Forms and letters",
            "Meeting other people",
            "Something else",
        ],
        "required": False,
        "help_text": "Choose as many as you like.",
    },
    {
        "text": "What difference has having a buddy made to you?",
        "kind": QuestionKind.TEXT,
        "required": False,
        "help_text": "Write as much or as little as you like. Please do not write anyone's name.",
    },
    {
        "text": "What could we do better?",
        "kind": QuestionKind.TEXT,
        "required": False,
        "help_text": "Anything at all. It helps us improve.",
    },
    {
        "text": "May we quote what you wrote, without your name?",
        "kind": QuestionKind.SINGLE,
        "choices": [YES, NO],
        "code": QUOTE_CONSENT,
        "help_text": "We may use your words in reports to the people who fund us. We never use "
        "your name. You can say no.",
    },
]

BUDDY_QUESTIONS = [
    {
        "text": "Being a buddy has been worthwhile for me.",
        "kind": QuestionKind.LIKERT,
        "help_text": "Say how much you agree.",
    },
    {
        "text": "What have you got out of being a buddy?",
        "kind": QuestionKind.MULTIPLE,
        "choices": [
            "New skills",
            "More confidence",
            "Meeting new people",
            "Feeling useful",
            "Experience for work or study",
            "Something else",
        ],
        "required": False,
        "help_text": "Choose as many as you like.",
    },
    {
        "text": "How well supported did you feel by the scheme?",
        "kind": QuestionKind.SCALE,
        "low_label": "Not at all",
        "high_label": "Completely",
        "help_text": "0 means not at all. 10 means completely.",
    },
    {
        "text": "Would you buddy someone again?",
        "kind": QuestionKind.SINGLE,
        "choices": ["Yes", "Maybe", "No"],
    },
    {
        "text": "What did you and the person you supported both get from it?",
        "kind": QuestionKind.TEXT,
        "required": False,
        "help_text": "Please use initials only, never names.",
    },
]

DEFAULTS: dict[str, dict[str, Any]] = {
    "ons4": {
        "name": "Personal wellbeing (ONS4)",
        "purpose": Purpose.WELLBEING,
        "audience": Audience.PARTICIPANT,
        "send_at": "start,review,end",
        "questions": [{**spec, "kind": QuestionKind.SCALE} for spec in ONS4_QUESTIONS],
    },
    "exit": {
        "name": "Feedback at the end",
        "purpose": Purpose.EXIT,
        "audience": Audience.PARTICIPANT,
        "send_at": "end",
        "questions": EXIT_QUESTIONS,
    },
    "buddy": {
        "name": "Buddy's experience",
        "purpose": Purpose.BUDDY,
        "audience": Audience.BUDDY,
        "send_at": "end",
        "questions": BUDDY_QUESTIONS,
    },
}
