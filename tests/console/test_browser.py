"""The console in a real headless chromium, against ``evp up``: pages load without console
errors, an order placed from the shop page reaches its terminal state on screen, and the saga
page shows that order's timeline."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import console_up

PAGE_TIMEOUT = 20.0
SAGA_TIMEOUT = 90.0
PASSWORD = "correct horse battery staple"

# Each page, and what is on screen once it has shown data from the platform.
PAGES = {
    "overview": "#processes tr.process-ready",
    "shop": "#products [data-sku]",
    "analytics": "#figures .figure",
    "sagas": "#sagas table",
    "events": "#event-detail [data-event]",
    "dead-letters": "#dead-letter-topics tbody tr",
    "mailbox": "#mail-list table",
}


def _errors(browser: Any) -> list[dict[str, Any]]:
    """The page's console messages at level SEVERE (script errors, failed requests)."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def _open(browser: Any, platform: dict[str, Any], page: str, ready: str) -> None:
    console_up(platform["process"])
    browser.get("about:blank")  # a load of its own, not a hash change in a loaded page
    browser.get(f"{platform['console']}/#/{page}")
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ready))
    )


@pytest.fixture(scope="module")
def placed_order(browser: Any, console_platform: dict[str, Any]) -> dict[str, str]:
    """A customer registers on the shop page, fills the cart and places an order there."""
    browser.get(f"{console_platform['console']}/#/shop")
    browser.execute_script("localStorage.clear(); sessionStorage.clear();")
    browser.refresh()
    email = f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    form = WebDriverWait(browser, PAGE_TIMEOUT).until(
        ec.presence_of_element_located((By.ID, "register"))
    )
    form.find_element(By.NAME, "name").send_keys("Ada Shopper")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        ec.text_to_be_present_in_element((By.ID, "signed-in"), email)
    )
    # Clicked in the same script that finds it: the product grid re-renders as it polls.
    WebDriverWait(browser, PAGE_TIMEOUT).until(lambda driver: driver.execute_script(_ADD_TO_CART))
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        ec.element_to_be_clickable((By.ID, "place-order"))
    ).click()
    status = WebDriverWait(browser, PAGE_TIMEOUT).until(
        ec.presence_of_element_located((By.ID, "order-status"))
    )
    return {"order_id": str(status.get_attribute("data-order-id")), "email": email}


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_loads_without_console_errors(
    browser: Any, console_platform: dict[str, Any], page: str
) -> None:
    """The page shows the platform's data and its console holds no error."""
    _errors(browser)  # drops what earlier pages logged
    _open(browser, console_platform, page, PAGES[page])
    assert _errors(browser) == []


def test_the_overview_lists_every_process_ready(
    browser: Any, console_platform: dict[str, Any]
) -> None:
    """Every service, the registry, the broker and the mail sink are listed healthy."""
    _open(browser, console_platform, "overview", PAGES["overview"])
    names = {"users", "orders", "inventory", "payments", "notifications", "analytics"}

    def all_healthy(driver: Any) -> bool:
        healthy = driver.execute_script(
            "return [...document.querySelectorAll('#processes tbody tr')]"
            ".filter(r => r.matches('.process-ready, .process-up'))"
            ".map(r => r.querySelector('td strong').textContent)"
        )
        return set(healthy) >= names | {"registry", "broker", "smtp"}

    WebDriverWait(browser, PAGE_TIMEOUT).until(all_healthy)


# The pages re-render as they poll, so what a test reads of one is read in one script:
# elements found in one call may be gone (stale) by the next.
_ORDER = """
const status = document.getElementById("order-status");
const timeline = document.getElementById("order-timeline");
return status && [status.dataset.orderId, status.dataset.status, timeline.textContent];
"""
_SAGA = """
const rows = [...document.querySelectorAll("table.saga-events tbody tr[data-event-id]")];
return {
  steps: Object.fromEntries([...document.querySelectorAll("#saga-steps [data-step]")]
    .map(s => [s.dataset.step, s.dataset.state])),
  types: rows.map(r => r.cells[1].textContent),
  causes: rows.map(r => r.cells[5].textContent),
};
"""
_ADD_TO_CART = """
const button = document.querySelector("#products [data-sku] .add-to-cart");
if (button) button.click();
return Boolean(button);
"""
_OPEN_MAIL = """
const row = [...document.querySelectorAll("#mail-list tbody tr")]
  .find(r => r.textContent.includes(arguments[0]));
if (row) row.click();
return Boolean(row);
"""


def test_an_order_placed_from_the_shop_page_reaches_its_terminal_state_on_screen(
    browser: Any, console_platform: dict[str, Any], placed_order: dict[str, str]
) -> None:
    """The order placed with a card that pays shows CONFIRMED, with its saga's events."""
    shown = WebDriverWait(browser, SAGA_TIMEOUT).until(
        lambda driver: (
            ((found := driver.execute_script(_ORDER)) and found[1] in ("CONFIRMED", "CANCELLED"))
            and found
        )
    )
    order_id, status, timeline = shown
    assert order_id == placed_order["order_id"]
    assert status == "CONFIRMED"
    assert "OrderPlaced" in timeline
    assert "OrderConfirmed" in timeline
    assert _errors(browser) == []


def test_the_saga_page_shows_the_orders_timeline(
    browser: Any, console_platform: dict[str, Any], placed_order: dict[str, str]
) -> None:
    """Each step that ran succeeded, and every event is listed with what caused it."""
    order_id = placed_order["order_id"]
    _open(browser, console_platform, f"sagas/{order_id}", "table.saga-events tbody tr")
    saga = WebDriverWait(browser, SAGA_TIMEOUT).until(
        lambda driver: (
            (found := driver.execute_script(_SAGA))["types"][-1:] == ["OrderConfirmed"] and found
        )
    )
    # The happy path runs hold, payment and reservation; release only undoes a hold.
    assert saga["steps"] == {
        "hold": "succeeded",
        "payment": "succeeded",
        "reservation": "succeeded",
        "release": "pending",
    }, saga
    assert saga["types"][0] == "OrderPlaced", saga
    causes = saga["causes"]
    assert causes[0] == "a request"
    assert all(cause and cause != "a request" for cause in causes[1:]), causes
    assert _errors(browser) == []


def test_the_mailbox_shows_the_welcome_email(
    browser: Any, console_platform: dict[str, Any], placed_order: dict[str, str]
) -> None:
    """The customer's welcome email, received by the SMTP sink, is listed and readable."""
    _open(browser, console_platform, "mailbox", PAGES["mailbox"])
    WebDriverWait(browser, SAGA_TIMEOUT).until(
        lambda driver: driver.execute_script(_OPEN_MAIL, placed_order["email"])
    )
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        ec.text_to_be_present_in_element((By.ID, "mail"), "Ada Shopper")
    )
    assert _errors(browser) == []


def test_the_event_catalogue_shows_who_produces_and_consumes_an_event(
    browser: Any, console_platform: dict[str, Any]
) -> None:
    """PaymentRequested: sent by orders, handled by payments, a step of the order saga."""
    _open(
        browser,
        console_platform,
        "events/shop.orders.PaymentRequested",
        "[data-event='shop.orders.PaymentRequested']",
    )
    text = browser.find_element(By.ID, "event-detail").text
    assert "Produced by\norders" in text
    assert "payments (group payments" in text
    assert "order" in text.split("Saga steps", 1)[1]
    assert _errors(browser) == []
