"""TicketQ gateway."""

from gateway.path_ids import register as _register_path_convertors

# Route tables in this package use `{name:id}`; the convertor must exist before they build.
_register_path_convertors()
