"""预约: booking rules (rules), slots, bookings and check-in in the database (store), endpoints (api)."""
