"""The server's capacity and every user's share of it (docs/platform.md, Capacity)."""
