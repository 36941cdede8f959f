"""TicketQ gateway."""
