"""The benchmark behind `make bench` (`python -m bench`): the figures, printed as a table (docs/benchmark.md).

Importing the package puts `functions/` on the import path, as the Lambda runtime does with the function's code,
so every module of the package can import `ledger` the way the handlers do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
FUNCTIONS: Final = ROOT / "functions"

for _path in (str(ROOT), str(FUNCTIONS)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
