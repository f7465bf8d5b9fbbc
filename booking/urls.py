from django.urls import path

from booking import api, views

urlpatterns = [
    path("services/", views.service_list, name="service_list"),
    path("services/<slug:slug>/", views.service_detail, name="service_detail"),
    path("book/", views.book, name="book"),
    path("appointments/<str:token>/", views.appointment_manage, name="appointment_manage"),
    path("appointments/<str:token>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("appointments/<str:token>/reschedule/", views.appointment_reschedule, name="appointment_reschedule"),
    path("appointments/<str:token>/appointment.ics", views.appointment_ics, name="appointment_ics"),
    path("api/availability/", api.availability, name="api_availability"),
]
