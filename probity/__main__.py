"""``python -m probity`` = the ``probity`` command (used for child processes)."""

from probity.cli import main

main()
