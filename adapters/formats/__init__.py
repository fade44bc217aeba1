"""One module per input format, found by :mod:`adapters.registry`; TOML tables beside them
say what the source fields mean."""
