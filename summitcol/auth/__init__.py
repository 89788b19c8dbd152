"""Server-side authentication: what the `bearertokenauth` and `basicauth` extensions check, and
the brake on repeated failures. No pipeline knowledge: a check takes the request's headers and
says who the caller is or why not."""

from summitcol.auth.base import Authenticator, AuthFailure, Principal

__all__ = ["AuthFailure", "Authenticator", "Principal"]
