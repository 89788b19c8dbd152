// The page's copy of the official @sentry/browser SDK, bundled by esbuild (tests/receiver/sentry/test_browser_sdk_e2e.py).
import * as Sentry from "@sentry/browser";

window.Sentry = Sentry;
