"""The Spark session a run uses: the active one (a notebook's, a spark-submit job's), else one started here.

A session started here runs Python workers with this interpreter (``PYSPARK_PYTHON``),
so executors import the same qualiscore; a local one gets half the machine's memory for
its JVM (``SPARK_DRIVER_MEMORY`` overrides); Spark's own logging is kept to errors.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib import resources
from typing import Any

from ...errors import UsageError
from ...i18n import _

DEFAULT_MASTER = "local[*]"


def local_memory_mib() -> int:
    """Half of this machine's memory in MiB, between 1 GiB and 32 GiB (the JVM heap of a local session)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1024
    return max(1024, min(32 * 1024, total // 2 // 2**20))


def session(master: str | None = None) -> Any:
    """The active SparkSession, or a new one on ``master`` (default: every core of this machine)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from ..._install import install_hint

        raise UsageError(_("--engine spark needs pyspark: {hint}", hint=install_hint('spark'))) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise UsageError(_("--engine spark needs a Java runtime (17 or later) to start Spark, and none was found"),
                         hint=_("install one (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    log4j = resources.files(__package__).joinpath("log4j2.properties")
    builder = (SparkSession.builder.master(master or DEFAULT_MASTER).appName("qualiscore")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j}"))
    if (master or DEFAULT_MASTER).startswith("local") and not os.environ.get("SPARK_DRIVER_MEMORY"):
        # In local mode the executors live in the driver's JVM, whose default heap (1g) holds far less than the
        # rows Spark keeps and shuffles: give it half of this machine's memory (up to 32g).
        builder = builder.config("spark.driver.memory", f"{local_memory_mib()}m")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
