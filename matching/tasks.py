from celery import shared_task

from . import goals, proposals


@shared_task(ignore_result=True)
def remind_unanswered_proposals():
    """Daily, from beat. Safe to run twice: each proposal is claimed before it is reminded."""
    proposals.proposals_remind()


@shared_task(ignore_result=True)
def remind_match_reviews():
    """Daily, from beat. Safe to run twice: each review date's reminder row is the claim."""
    goals.reviews_remind()
