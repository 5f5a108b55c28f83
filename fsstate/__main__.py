"""``python -m fsstate``: the command line (:mod:`fsstate.cli`)."""

from fsstate.cli import main

raise SystemExit(main())
