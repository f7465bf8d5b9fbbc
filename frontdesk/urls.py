from django.urls import path

from frontdesk.views import appointments, calendar

app_name = "frontdesk"

urlpatterns = [
    path("", calendar.calendar_page, name="calendar"),
    path("events/", calendar.events_feed, name="events"),
    path("resources/", calendar.resources_feed, name="resources"),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/status/", appointments.appointment_status, name="appointment_status"),
    path("appointments/<int:pk>/undo/", appointments.appointment_undo, name="appointment_undo"),
    path("appointments/<int:pk>/cancel/", appointments.appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:pk>/note/", appointments.appointment_note, name="appointment_note"),
    path("appointments/<int:pk>/move/", appointments.appointment_move, name="appointment_move"),
]
