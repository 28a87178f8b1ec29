"""Shared pieces of the fuzz suite: the settings profile, JSON strategies, refusal helper.

The example count comes from ``MOBILE_TOKEN_FUZZ_EXAMPLES``: CI runs the short
default with a fixed seed (``derandomize``) so a red build is reproducible;
``scripts/fuzz`` sets 10 000 and then draws fresh random examples every run.
"""

import json
import os
from collections.abc import Callable
from typing import Any, Final

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES_ENV: Final = "MOBILE_TOKEN_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES: Final = 60
PROFILE: Final = "mobile-token-fuzz"


def example_count() -> int:
    """Examples per property: the environment's count, else the short CI default."""
    configured = os.environ.get(EXAMPLES_ENV, "").strip()
    return int(configured) if configured else DEFAULT_EXAMPLES


settings.register_profile(
    PROFILE,
    max_examples=example_count(),
    deadline=None,
    derandomize=EXAMPLES_ENV not in os.environ,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

#: Decorator giving a property the suite's profile (not loaded globally: other suites keep theirs).
fuzz = settings.get_profile(PROFILE)


def refused_or[T](parse: Callable[..., T], *args: Any, error: type[Exception]) -> T | None:
    """Run a decoder: its documented error means "refused" (None); anything else fails."""
    try:
        return parse(*args)
    except error:
        return None


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)


def json_trees(keys: st.SearchStrategy[str] | None = None, max_leaves: int = 20) -> Any:
    """Random JSON values whose object keys favour ``keys`` (the fields a decoder reads)."""
    key_strategy = st.text(max_size=8) if keys is None else keys | st.text(max_size=8)
    return st.recursive(
        json_scalars,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(key_strategy, children, max_size=6),
        max_leaves=max_leaves,
    )


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the clients send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@st.composite
def mutated_base64(draw: st.DrawFn, text: str) -> str:
    """A Base64 (or Base64url) text with one character changed, cut or added."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.!"
    position = draw(st.integers(min_value=0, max_value=max(len(text) - 1, 0)))
    how = draw(st.sampled_from(("replace", "cut", "insert", "truncate")))
    char = draw(st.sampled_from(alphabet))
    if how == "replace" and text:
        return text[:position] + char + text[position + 1 :]
    if how == "cut":
        return text[:position] + text[position + 1 :]
    if how == "insert":
        return text[:position] + char + text[position:]
    return text[:position]
