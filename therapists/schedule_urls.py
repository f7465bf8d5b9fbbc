"""The therapist's own schedule under /schedule/: their day and week, their patients' visits, their calendar
feed and their time off. Every page but the feed goes through therapists.access.schedule_view."""

from django.urls import path

from therapists.views import feed, schedule
from therapists.views import time_off as time_off_views

app_name = "schedule"

urlpatterns = [
    # The therapist's day, week and appointments (read, and the status buttons).
    path("", schedule.today, name="today"),
    path("week/", schedule.week, name="week"),
    path("events/", schedule.events, name="events"),
    path("appointments/<int:pk>/", schedule.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/status/", schedule.appointment_status, name="appointment_status"),
    # The calendar subscription: the feed opens by its token alone; the page and the button are the schedule's.
    path("feed/<str:token>.ics", feed.calendar_feed, name="feed"),
    path("calendar-feed/", feed.feed_settings, name="feed_settings"),
    path("calendar-feed/replace/", feed.feed_replace, name="feed_replace"),
    # Their own time off: blocked at once, or a request for the front desk when patients are booked then.
    path("time-off/", time_off_views.time_off_page, name="time_off"),
    path("time-off/<int:pk>/withdraw/", time_off_views.time_off_withdraw, name="time_off_withdraw"),
]
