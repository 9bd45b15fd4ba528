"""test_timeouts.py's calls (clients that never ack, slow and silent
servers, servers killed mid-request) in the sharded clusters of
test_sharded_cluster.py (one subscription mode: `dynamic`, unless
INTEROP_SHARDED_MODES says otherwise): the same results and error messages
as the all-stock sharded cluster.

test_timeouts.py's serverSideEmit to a server that never acks is replaced
here: the sharded adapter waits its fixed 5000 ms (socket.io-adapter's
DEFAULT_TIMEOUT; createShardedAdapter has no requestsTimeout) where the
classic one waits requestsTimeout, and the socketbus server waits its
connector's requestsTimeout (5000 by default, 1000 in these clusters)."""

import os

os.environ.setdefault("INTEROP_SHARDED_MODES", "dynamic")

from test_sharded_cluster import clusters  # noqa: E402,F401  (the sharded clusters)
from test_timeouts import (  # noqa: E402,F401
    test_a_busd_that_dies_mid_request_is_a_server_that_dies,
    test_acked_broadcast_when_a_server_dies_mid_request,
    test_acked_broadcast_with_clients_that_never_ack,
    test_acked_broadcast_with_slow_clients_within_the_time_out,
    test_server_side_emit_when_a_server_dies_mid_request,
    test_server_side_emit_with_a_slow_server_within_the_time_out,
)


import pytest  # noqa: E402

from test_adapter_calls import check_same, run  # noqa: E402


@pytest.mark.parametrize("issuer,silent", [("A", "S"), ("S", "B")])
def test_server_side_emit_with_a_sharded_server_that_never_acks(clusters, issuer, silent):
    kw = {"event": "interop", "args": ["q"], "withAck": True}
    baseline, mixed = run(clusters, issuer, "serverSideEmit", kw, behaviour={silent: "never"})
    outcome = baseline["outcome"]
    assert outcome["error"] == "timeout reached: only 1 responses received out of 2"
    assert [r["from"] for r in outcome["responses"]] == sorted({"A", "B", "S"} - {issuer, silent})
    assert 4.9 < baseline["elapsed"] < 6.0
    if mixed is not None:
        print(f"\nwaited: stock {baseline['elapsed']:.2f} s, mixed {mixed['elapsed']:.2f} s")
        # A stock requester waits its 5 s; the socketbus one its requestsTimeout.
        assert 4.9 < mixed["elapsed"] < 6.0 if issuer != "S" else 0.9 < mixed["elapsed"] < 2.0
    check_same(baseline, mixed)
