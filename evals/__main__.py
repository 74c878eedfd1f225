"""`python -m evals`: run the evaluation (see `evals.run`)."""

from evals.run import main

raise SystemExit(main())
