"""Storage adapter: SQLModel tables, the UTC datetime type, the engine and shipped migrations."""
