"""Performance figures of the project (scripts/bench)."""
