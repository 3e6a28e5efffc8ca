"""``python -m bayesmixture.cli``: the command line, as ``python -m bayesmixture`` runs it."""

from bayesmixture.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
