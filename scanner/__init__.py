"""TicketQ scanner."""
