"""``python -m sds``: the ``sds`` command, for environments whose scripts folder is not on
the PATH."""

from sds.cli.main import run

if __name__ == "__main__":
    run()
