"""Alembic migrations shipped with the package. Applied by sessionctl.store.schema."""
