"""The project's one root exception; each package subclasses it in its own ``exceptions.py``."""


class ProbityError(Exception):
    """Root of every error Probity raises on purpose; always raised ``from`` the cause."""
