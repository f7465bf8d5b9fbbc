from django.urls import path

from booking import api
from booking.views import private_link, public
from booking.views import waitlist as waitlist_views

urlpatterns = [
    path("services/", public.service_list, name="service_list"),
    path("services/<slug:slug>/", public.service_detail, name="service_detail"),
    path("book/", public.book, name="book"),
    path("appointments/<str:token>/", private_link.appointment_manage, name="appointment_manage"),
    path("appointments/<str:token>/cancel/", private_link.appointment_cancel, name="appointment_cancel"),
    path("appointments/<str:token>/reschedule/", private_link.appointment_reschedule, name="appointment_reschedule"),
    path("appointments/<str:token>/appointment.ics", private_link.appointment_ics, name="appointment_ics"),
    path("api/availability/", api.availability, name="api_availability"),
    path("waitlist/join/", waitlist_views.waitlist_join, name="waitlist_join"),
    path("waitlist/offers/<str:token>/", waitlist_views.waitlist_offer, name="waitlist_offer"),
    path("waitlist/<str:token>/", waitlist_views.waitlist_entry, name="waitlist_entry"),
    path("waitlist/<str:token>/leave/", waitlist_views.waitlist_leave, name="waitlist_leave"),
]
