"""Output adapter: consoles, literal user text, tables, planning grid, round panel, JSON."""
