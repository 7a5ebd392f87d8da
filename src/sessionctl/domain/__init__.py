"""Pure domain rules: time parsing and DST handling, recurrence. No I/O, no clock reads."""
