"""Server user accounts: roles, argon2 password hashes, rate-limited log-in."""
