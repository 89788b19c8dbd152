"""Scenario name -> the application function a request, job or command ends up in."""

from __future__ import annotations

from typing import Any

from shop import (
    auth,
    cache,
    config,
    files,
    importer,
    integrations,
    integrity,
    inventory,
    jobs,
    orders,
    payments,
    quotes,
    reports,
    storage,
    tree,
    users,
)

# @release-insert

SCENARIOS = {
    "inventory.reserve": inventory.reserve_for_order,
    "inventory.release": inventory.release_for_order,
    "orders.add_line": orders.add_line,
    "orders.submit": orders.submit,
    "users.register": users.register,
    "users.notify": users.notify,
    "payments.charge": payments.checkout,
    "payments.refund": payments.refund_order,
    "auth.check": auth.authorize,
    "config.load": config.load,
    "tree.weigh": tree.weigh,
    "storage.save": storage.save_order,
    "storage.archive": storage.archive_order,
    "importer.load": importer.load_batch,
    "importer.load_with_fallback": importer.load_with_fallback,
    "reports.average": reports.average_basket,
    "reports.ratio": reports.conversion_ratio,
    "reports.top": reports.top_products,
    "files.export": files.export_report,
    "cache.evict": cache.evict,
    "jobs.next": jobs.next_job,
    "integrity.verify": integrity.verify_blob,
    "integrations.publish": integrations.publish_order,
    "integrations.sync": integrations.sync_catalog,
    "quotes.refresh": quotes.refresh,
}


def run(name: str, args: dict[str, Any]) -> Any:
    return SCENARIOS[name](**args)
