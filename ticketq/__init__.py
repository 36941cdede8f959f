"""TicketQ's entry points: the `ticketq` command, the worker and the demo."""

__version__ = "0.1.0"
