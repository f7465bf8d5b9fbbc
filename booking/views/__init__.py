"""Booking's pages, by audience: `public` (services and the booking flow) and `private_link` (a patient's own
appointment); `day_strip` holds the day-and-time picker both use."""
