"""The shop's own exception types (their exception.type is module-qualified: shop.errors.X)."""

from __future__ import annotations


class ShopError(Exception):
    """Base of the shop's errors."""


class PaymentDeclined(ShopError):
    """The card processor refused a charge or refund."""


class StorageError(ShopError):
    """A record could not be written."""


class AuthError(ShopError):
    """The caller's token is not valid."""


class PermissionDenied(ShopError):
    """The caller is authenticated but not allowed."""


class ConfigError(ShopError):
    """The configuration tree is inconsistent."""


class IntegrityError(ShopError):
    """Stored bytes do not match their checksum."""
