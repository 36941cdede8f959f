"""TicketQ purchase."""
