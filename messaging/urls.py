from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("messages/", views.my_messages, name="mine"),
    path("messages/coordinators/", views.with_coordinators, name="coordinators"),
    path("messages/with/<int:pk>/", views.with_person, name="with"),
    path("network/", views.network, name="network"),
    path("network/join/", views.network_join, name="network_join"),
    path("network/leave/", views.network_leave, name="network_leave"),
    path("coordinator/messages/", views.inbox, name="inbox"),
    path("coordinator/messages/<int:pk>/", views.conversation, name="conversation"),
    path("coordinator/messages/new/<int:pk>/", views.start, name="start"),
    path("coordinator/messages/relay/<int:pk>/", views.relay, name="relay"),
    path("coordinator/settings/messages/", views.settings_messages, name="settings"),
]
