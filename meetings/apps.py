from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"

    def ready(self):
        # Once models are loaded: register "Missed this month" on the dashboard, and follow
        # changes of a buddy's support person.
        # An alert is raised by the sweep with no audit row: it shows on the dashboard at once.
        from buddyscheme.dashboard import dashboard_forget_on  # noqa: PLC0415

        from . import patterns, selectors, services  # noqa: F401, PLC0415
        from .models import Alert, Meeting  # noqa: PLC0415

        def scheme_of(alert):
            if Alert.meeting.is_cached(alert):
                return alert.meeting.scheme_id
            meetings = Meeting.objects.filter(pk=alert.meeting_id)
            return meetings.values_list("scheme_id", flat=True).first()

        dashboard_forget_on(Alert, scheme_of)
