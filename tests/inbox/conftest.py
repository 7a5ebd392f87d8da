"""The inbox tests read from a real Dovecot (see tests/imapserver.py) and real Maildirs."""

from tests.imapserver import dovecot, dovecot_without_move, imap_account  # noqa: F401 - fixtures
