"""``python -m mectk`` runs the command line."""

from mectk.cli import main

main()
