"""Delivery adapters: compose MIME messages from templates and hand them to a transport.

``compose`` builds one email per round, member and kind; ``transports`` writes it to a Maildir
or sends it over SMTP and says whether it was delivered, failed for good, or should be retried.
"""
