from __future__ import annotations

import sys

from bench.run.loadgen.process import main

sys.exit(main())
