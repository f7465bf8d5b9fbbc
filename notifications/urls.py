"""Reminder preferences, under /reminders/ (see notifications.views)."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("stop/<str:token>/", views.reminders_stop, name="reminders_stop"),
    path("resume/<str:token>/", views.reminders_resume, name="reminders_resume"),
    path("sms/inbound/", views.sms_inbound, name="reminders_sms_inbound"),
]
