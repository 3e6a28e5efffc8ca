"""``python -m bayesmixture``: the command line (see :mod:`bayesmixture.cli`)."""

from bayesmixture.cli import main

if __name__ == "__main__":
    main()
