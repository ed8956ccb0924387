"""No personal data in logs or in what is queued for Celery.

Every log record (all loggers, at DEBUG) and every task queued (its args and kwargs, recorded
where Celery's apply_async is called) is searched for the person's distinctive name and email
(no phone number is entered in these steps). This covers the first steps of the journey (an invitation through the coordinator's
page, its email sent by the outbox, the invitation accepted with a name); the rest of the
journey (match, agreement, meetings and alerts, debrief, messages) is not yet driven here.
"""

import logging
from unittest import mock

from celery.app.task import Task
from django.core import mail

from buddyscheme.models import Invitation, Role
from buddyscheme.notifications import notifications_deliver

from ..base import PersonaTestCase

EMAIL = "quillon.farthingale@example.org"
NAME = "Quillon"


class NoPersonalDataTest(PersonaTestCase):
    def test_an_invitation_leaves_no_personal_data_in_logs_or_queued_tasks(self):
        queued = []

        def record(task, args=None, kwargs=None, **options):
            queued.append((task.name, args, kwargs))

        with (
            self.assertLogs(level=logging.DEBUG) as logs,
            mock.patch.object(Task, "apply_async", autospec=True, side_effect=record),
        ):
            logging.getLogger("buddyscheme").debug("capture on")
            self.login_as("coordinator")
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(
                    "/coordinator/invitations/", {"email": EMAIL, "role": Role.BUDDY}
                )
            self.assertEqual(response.status_code, 302)
            notifications_deliver()
            invitation = Invitation.objects.get(email=EMAIL)
            self.client.logout()
            self.client.post(
                f"/invite/{invitation.token}/",
                {
                    "preferred_name": NAME,
                    "password1": "a-long-unusual-passphrase-71",
                    "password2": "a-long-unusual-passphrase-71",
                },
            )
            self.client.get(f"/invite/{invitation.token}/")
        self.assertTrue(any(m.to == [EMAIL] for m in mail.outbox), "the invitation was sent")
        self.assertTrue(queued, "the outbox queued its delivery task")
        logged = "\n".join(logs.output)
        for identifier in (EMAIL, "farthingale", NAME):
            self.assertNotIn(identifier.lower(), logged.lower())
            self.assertNotIn(identifier.lower(), repr(queued).lower())
