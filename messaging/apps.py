from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self):
        # Once models are loaded: answer the core's home cards, dashboard and settings hub.
        # A message from a buddy or participant (or one read) moves the dashboard's unread
        # count: shown at once.
        from buddyscheme.dashboard import dashboard_forget_on  # noqa: PLC0415

        from . import selectors  # noqa: F401, PLC0415
        from .models import Conversation, Message  # noqa: PLC0415

        def scheme_of(message):
            if Message.conversation.is_cached(message):
                return message.conversation.scheme_id
            conversations = Conversation.objects.filter(pk=message.conversation_id)
            return conversations.values_list("scheme_id", flat=True).first()

        dashboard_forget_on(Message, scheme_of)
