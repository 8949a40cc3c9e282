"""Registration for events: register and cancel, the waiting list and its
promotions, the e-mails with the .ics and the QR code, the reminder the day
before, My registrations, and the attendee list export for organisers."""
