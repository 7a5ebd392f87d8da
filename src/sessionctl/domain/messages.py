"""Message states, without the database: completion and option checks read them at start-up."""

# As stored, and as shown: ``sending`` is a message a run has claimed and is (or was) sending.
STATUSES = ("pending", "sending", "sent", "failed")
