"""TicketQ's bottom layer: settings, Redis and Postgres connections, the script registry,
the clock, domain error kinds, embedded servers and the models several parts share.
It imports no part of TicketQ, not even by a string."""
