"""TicketQ shared core: settings, connections, embedded services, shared models, CLI."""

__version__ = "0.1.0"
