"""What ``evp up`` puts into a fresh shop: the admin account and a product catalogue.

The admin account is created by the users service itself at start-up, from
``USERS_ADMIN_EMAIL`` and ``USERS_ADMIN_PASSWORD``; this module only decides the password
(``EVP_ADMIN_PASSWORD``, else ``USERS_ADMIN_PASSWORD``, else one generated on the first
run and kept in ``.evp/admin.json`` so that every later run logs in with it). The
catalogue goes in over inventory's HTTP API as that admin; a product that exists already
(a rerun) is left as it is, stock included.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from evp.up.errors import StepFailed

__all__ = ["CATALOGUE", "Admin", "Product", "admin_account", "seed_catalogue"]


@dataclass(frozen=True)
class Admin:
    """The admin's login, and where the password came from (for the table)."""

    email: str
    password: str
    source: str


@dataclass(frozen=True)
class Product:
    """A product of the seeded catalogue."""

    sku: str
    name: str
    price: str
    stock: int
    currency: str = "EUR"


CATALOGUE = (
    Product("BOOK-42", "The Hitchhiker's Guide", "19.99", 100),
    Product("MUG-01", "Event Sourcing Mug", "12.50", 50),
    Product("TEE-M", "Avro T-Shirt (M)", "24.00", 40),
    Product("STICKER-8", "Schema Sticker Pack", "4.99", 500),
    Product("HOODIE-L", "Kafka Hoodie (L)", "49.00", 20),
    Product("PEN-3", "Idempotent Pen", "2.50", 1000),
)


def admin_account(data_dir: Path, email: str, environ: Mapping[str, str]) -> Admin:
    """The admin's email and password for this run (generated once, then reused)."""
    for key in ("EVP_ADMIN_PASSWORD", "USERS_ADMIN_PASSWORD"):
        given = environ.get(key, "")
        if given:
            return Admin(email, given, key)
    kept = data_dir / "admin.json"
    if kept.exists():
        stored = json.loads(kept.read_text(encoding="utf-8"))
        if stored.get("email") == email and stored.get("password"):
            return Admin(email, str(stored["password"]), str(kept))
    password = secrets.token_urlsafe(18)
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps({"email": email, "password": password}) + "\n", encoding="utf-8")
    kept.chmod(0o600)
    return Admin(email, password, str(kept))


async def seed_catalogue(
    users_url: str,
    inventory_url: str,
    admin: Admin,
    products: tuple[Product, ...] = CATALOGUE,
    *,
    timeout: float = 10.0,
) -> list[str]:
    """Log in as the admin and add each product inventory does not have; the SKUs added."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        login = await client.post(
            f"{users_url}/auth/token", json={"email": admin.email, "password": admin.password}
        )
        if login.status_code != 200:
            raise StepFailed(
                "seed",
                f"cannot log in as {admin.email} (HTTP {login.status_code})",
                fix=f"the users database holds an admin with another password: set "
                f"EVP_ADMIN_PASSWORD to it, or remove {_data_hint(admin)} and the users "
                "database to start over",
            )
        token = {"Authorization": f"Bearer {login.json()['access_token']}"}
        added = []
        for product in products:
            body = {
                "sku": product.sku,
                "name": product.name,
                "price": product.price,
                "currency": product.currency,
                "stock": product.stock,
            }
            answer = await client.post(f"{inventory_url}/products", json=body, headers=token)
            if answer.status_code == 201:
                added.append(product.sku)
            elif answer.status_code != 409:  # 409: there already (a rerun)
                raise StepFailed(
                    "seed",
                    f"POST /products {product.sku} answered {answer.status_code}: "
                    f"{answer.text[:200]}",
                )
        return added


def _data_hint(admin: Admin) -> str:
    return admin.source if admin.source.endswith(".json") else "the data directory"
