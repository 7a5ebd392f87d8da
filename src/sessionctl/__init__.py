"""sessionctl: schedule and run matching programs from the command line."""

__version__ = "0.1.0"
