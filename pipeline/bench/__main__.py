"""`python -m pipeline.bench TASK job.json result.json`: one benchmark task in a fresh process."""

import sys

from pipeline.bench.tasks import main

sys.exit(main())
