"""Model metrics: the series each evaluation adds to, per model (docs/platform.md)."""
