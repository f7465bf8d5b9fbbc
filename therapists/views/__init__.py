"""Therapists' pages, by audience: `public` (the therapist pages patients read) and the therapist's own schedule."""
