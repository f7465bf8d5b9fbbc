"""The front desk's pages, one module per area: the calendar, appointments, booking, patients, therapists' time."""
