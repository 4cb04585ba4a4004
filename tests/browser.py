"""Headless Chromium for the browser tests: the distribution's chromium and chromedriver,
driven by Selenium, with every network request the page makes recorded (the DevTools
performance log). Without Chromium the tests skip with the reason, except in CI (the
`CI` variable set), where they fail: `.ci/run` installs it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def _first(paths) -> str | None:
    return next((p for p in paths if Path(p).is_file()), None)


def chromium_or_skip() -> tuple[str, str]:
    binary, driver = _first(CHROMIUM), _first(DRIVER) or shutil.which("chromedriver")
    if binary and driver:
        try:
            import selenium  # noqa: F401
        except ImportError:
            binary = None
    if binary and driver:
        return binary, driver
    reason = "no Chromium with its driver (install the distribution's chromium and chromium-driver packages, and selenium)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


class Browser:
    """One headless Chromium; `open(path, width)` loads a local file at a window width."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        binary, driver = chromium_or_skip()
        self.profile = tempfile.mkdtemp(prefix="fund-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.get("about:blank")  # leave the browser's own start page before anything is recorded

    def open(self, path: Path, width: int, height: int = 844) -> None:
        self.driver.get_log("performance")  # drop what earlier pages logged
        self.driver.set_window_size(width, height)
        inner = self.driver.execute_script("return window.innerWidth")
        if inner != width:  # the window frame takes some room: make the page itself `width` wide
            self.driver.set_window_size(width + (width - inner), height)
        self.driver.get(Path(path).resolve().as_uri())

    def requests(self) -> list[str]:
        """The URL of every request the page made since it was opened."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def horizontal_overflow(self) -> int:
        """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
        return self.js("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth")

    def text(self) -> str:
        return self.js("return document.body.innerText")

    def print_pdf(self) -> bytes:
        import base64

        result = self.driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False, "preferCSSPageSize": True})
        return base64.b64decode(result["data"])

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        if full_page:
            height = self.js("return document.documentElement.scrollHeight")
            width = self.js("return window.innerWidth")
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
            )
        try:
            Path(path).write_bytes(self.driver.get_screenshot_as_png())
        finally:
            if full_page:
                self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def offsite(urls: list[str]) -> list[str]:
    """The requests that left this machine's files (anything but file: and data:)."""
    return [u for u in urls if not u.startswith(("file:", "data:"))]
