"""The therapist's own schedule under /schedule/: their day and week, their patients' visits, their calendar
feed and their time off. Every page but the feed goes through therapists.access.schedule_view."""

app_name = "schedule"

urlpatterns: list = []
