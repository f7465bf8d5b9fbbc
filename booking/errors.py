"""Domain errors of booking: each carries a code that tests assert on and a message people read."""

from django.utils.translation import gettext_lazy as _


class BookingError(Exception):
    messages = {
        "slot_taken": _("That time was just taken. Please choose another time."),
        "not_available": _("That time is not available for booking."),
        "outside_hours": _("That time is outside the therapist's working hours or during their time off."),
        "therapist_unavailable": _("That therapist does not offer this service."),
        "service_unavailable": _("That service or length is not available."),
        "too_late_to_change": _("It is too close to the appointment to change it online. Please call the clinic."),
        "not_active": _("This appointment is cancelled and can no longer be changed."),
        "in_past": _("That appointment has already started."),
        "busy": _("The calendar is busy right now. Please try again in a moment."),
        "invalid": _("Some details are not valid."),
        "not_allowed": _("You are not allowed to make this change."),
        "cannot_move": _("A completed or no-show appointment cannot be moved."),
        "nothing_to_undo": _("There is nothing to undo on this appointment."),
        "wrong_status": _("This change does not fit the appointment's status."),
        "not_started": _("This can be recorded only once the appointment has started."),
        "too_early": _("Patients can be checked in on the day of their appointment."),
        "therapist_inactive": _("That therapist is not taking appointments."),
        "online_cap": _("You already have as many upcoming appointments as can be booked online; please call us."),
    }

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = str(message or self.messages[code])
        super().__init__(self.message)


class SlotTaken(BookingError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__("slot_taken", message)
