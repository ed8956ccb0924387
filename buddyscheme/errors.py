class DomainError(Exception):
    """A business rule said no. The message is shown to the user as it is: keep it plain."""
