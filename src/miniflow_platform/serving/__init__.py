"""Model services: `miniflow serve` as a managed process, health-checked and proxied."""
