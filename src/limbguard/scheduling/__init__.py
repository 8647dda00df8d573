"""Scheduling: availability, visit types, resources, appointments without double-booking,
waitlist, reminders and calendars, all in each center's local time (issue 7)."""
