"""`python -m bot`: start restore-bot with settings from the environment (see bot/app/cli.py)."""

import sys

from bot.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
