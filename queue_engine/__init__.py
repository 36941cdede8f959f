"""TicketQ queue_engine."""
