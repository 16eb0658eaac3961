"""Settings of ``bench_api``'s throttle-off server only: production settings without the DRF throttles, so the
benchmark can show what the throttles cost (issue 14). Never a deployment's settings module: nothing else names it,
and no environment variable of csp.settings turns the throttles off."""

from csp.settings import *  # noqa: F403
from csp.settings import REST_FRAMEWORK

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
