"""TicketQ loadtest."""
