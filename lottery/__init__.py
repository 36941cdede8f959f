"""TicketQ lottery."""
