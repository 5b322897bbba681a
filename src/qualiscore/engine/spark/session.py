"""The Spark session a run uses: the active one (a notebook's, a spark-submit job's), else one started here.

A session started here runs Python workers with this interpreter (``PYSPARK_PYTHON``),
so executors import the same qualiscore; Spark's own logging is kept to errors, so the
command line prints what it always prints.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib import resources
from typing import Any

from ...errors import UsageError

DEFAULT_MASTER = "local[*]"


def session(master: str | None = None) -> Any:
    """The active SparkSession, or a new one on ``master`` (default: every core of this machine)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from ..._install import install_hint

        raise UsageError(f"--engine spark needs pyspark: {install_hint('spark')}") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise UsageError("--engine spark needs a Java runtime (17 or later) to start Spark, and none was found",
                         hint="install one (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    log4j = resources.files(__package__).joinpath("log4j2.properties")
    builder = (SparkSession.builder.master(master or DEFAULT_MASTER).appName("qualiscore")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j}"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
