"""The web UI: static HTML/CSS/JS served by the platform itself (no build step)."""
