"""Structured (JSON) logs of the local runtime, in the same format as the functions' Powertools logs."""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger

log = Logger(service="local-runtime", level=os.environ.get("LOCAL_LOG_LEVEL", "INFO"))

# Werkzeug (moto's server) logs every request at INFO in its own text format; the runtime logs what matters.
logging.getLogger("werkzeug").setLevel(logging.WARNING)
