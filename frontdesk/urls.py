from django.urls import path

from frontdesk.views import appointments, booking, calendar, day_sheet, patients, staff, time_off, waitlist
from frontdesk.views import messages as message_log

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
    path("book/", booking.book, name="book"),
    path("book/patients/", booking.book_patients, name="book_patients"),
    path("book/next-free/", booking.next_free, name="next_free"),
    path("patients/", patients.patient_directory, name="patients"),
    path("patients/search.json", patients.patient_search_json, name="patient_search"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient"),
    path("patients/<int:pk>/merge/", patients.patient_merge, name="patient_merge"),
    path("time-off/", time_off.time_off_page, name="time_off"),
    path("time-off/<int:pk>/remove/", time_off.time_off_remove, name="time_off_remove"),
    path("time-off/<int:pk>/approve/", time_off.time_off_approve, name="time_off_approve"),
    path("time-off/<int:pk>/decline/", time_off.time_off_decline, name="time_off_decline"),
    path("day-sheet/", day_sheet.day_sheet, name="day_sheet"),
    path("waitlist/", waitlist.waitlist_page, name="waitlist"),
    path("waitlist/<int:pk>/remove/", waitlist.waitlist_remove, name="waitlist_remove"),
    path("waitlist/<int:pk>/offer/", waitlist.waitlist_offer, name="waitlist_offer"),
    path("messages/", message_log.message_log, name="messages"),
    path("messages/<int:pk>/", message_log.message_detail, name="message"),
    path("messages/<int:pk>/retry/", message_log.message_retry, name="message_retry"),
    path("staff/", staff.staff_list, name="staff"),
    path("staff/add/", staff.staff_add, name="staff_add"),
    path("staff/<int:pk>/", staff.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/password-link/", staff.staff_password_link, name="staff_password_link"),
    path("staff/<int:pk>/unlock/", staff.staff_unlock, name="staff_unlock"),
]
