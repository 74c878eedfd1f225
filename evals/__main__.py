"""`python -m evals`: run the evaluation (see `evals.run`)."""

from .run import main

raise SystemExit(main())
