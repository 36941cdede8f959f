"""People's accounts: sign-up, sign-in, password hashing, bearer tokens and session cookies."""
