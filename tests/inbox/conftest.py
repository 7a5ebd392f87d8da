"""The inbox tests read from a real Dovecot (see tests/imapserver.py) and real Maildirs."""

from tests.imapserver import (  # noqa: F401 - fixtures
    dovecot,
    dovecot_without_move,
    imap_account,
    old_dovecot,
)
