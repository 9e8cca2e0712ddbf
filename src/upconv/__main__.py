"""``python -m upconv``: the same as the ``upconv`` command."""

from upconv.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
