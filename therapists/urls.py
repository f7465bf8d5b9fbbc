from django.urls import include, path

from therapists.views import public as views

urlpatterns = [
    path("therapists/", views.therapist_list, name="therapist_list"),
    path("therapists/<slug:slug>/", views.therapist_detail, name="therapist_detail"),
    path("schedule/", include("therapists.schedule_urls")),
]
