"""Users and API tokens (stored hashed); the bearer-token dependency every route uses."""
