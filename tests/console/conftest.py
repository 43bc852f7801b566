"""Fixtures of the console's tests: ``evp up`` running, and a headless chromium to drive it.

The browser is Debian's chromium with its chromedriver (``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them when missing). Nothing is downloaded at run
time, and a missing browser fails the tests with what to install rather than skipping them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evp.testing.up import UpProcess, running_up
from evp.up.plan import SERVICES

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = 120.0
CHROMIUM = os.environ.get("EVP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EVP_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def console_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``evp up`` with its console on a free port: the state file once the console is up."""
    directory = tmp_path_factory.mktemp("console-up")
    with running_up(directory, "--console-port", "0", "--grace", "20", cwd=ROOT) as up:
        state = up.wait_for(_booted, BOOT_TIMEOUT)
        yield {**state, "process": up}


def _booted(state: dict[str, Any]) -> bool:
    return bool(state.get("console")) and all(state["pids"].get(s) for s in SERVICES)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless chromium that keeps the page's console messages."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(
            f"the console's browser tests need {', '.join(missing)}: "
            "apt-get install chromium chromium-driver (.ci/run does it)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_up(up: UpProcess) -> None:
    """Fail with evp up's output if it has stopped."""
    if up.process.poll() is not None:
        pytest.fail(f"evp up stopped:\n{up.tail()}", pytrace=False)
