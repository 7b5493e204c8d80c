"""No input, however malformed, makes `credit decide` crash: every outcome is a decision
(exit 0) or one readable line per problem (exit 1), never an internal error."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sample_customers import paths, strong_customer

values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.text(max_size=10)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["2026-02-29", "2024-02-29", "1e999", "CCC", "-0", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=5)




@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_decide_never_crashes(tmp_path_factory, credit, data):
    doc = copy.deepcopy(strong_customer())
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(paths(doc))))
        value = data.draw(values)
        if not path:
            doc = value
            break
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    path = tmp_path_factory.mktemp("c") / "customer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = credit("decide", path, "--as-of", "2026-11-30", "--no-audit", "--json")
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.stderr.strip()
        assert all(line.startswith(str(path)) for line in result.stderr.strip().splitlines())
    else:
        assert json.loads(result.stdout)["customer_id"] == doc["id"]
