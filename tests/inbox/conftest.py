"""The inbox tests read from a real Dovecot (see tests/imapserver.py) and real Maildirs."""

from tests.imapserver import dovecot, imap_account  # noqa: F401 - fixtures
