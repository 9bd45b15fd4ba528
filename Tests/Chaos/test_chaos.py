"""Issue 5, item 4: busd under Redis chaos.

test_redis_kill_restart_cycles: under a steady load (an emitter publishing
to the node's room, the node broadcasting through busd), kill -9 and restart
redis-server CHAOS_OUTAGES times (default 5; bench/chaos.sh uses 20). busd
must never exit, the node's connection never drop, the registry in Redis
must equal the node's sockets within 1 s of Redis accepting connections,
the subscription must work again, the node's broadcasts sent during the
outage must be published afterwards (busd's `redis reachable again` log line
counts them), and each outage must produce exactly one FIRING and one
RESOLVED notice at a real SMTP server and a real HTTP listener.

test_redis_paused: DEBUG SLEEP and CLIENT PAUSE (Redis reachable but
silent): same survival and recovery checks.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
import redis

from chaos_common import (NODE_ID, SMTP_FROM, SMTP_TO, SUMMARIES, registry_diff, registry_matches, socket_id,
                          wait_for)
from chaos_sinks import alert_kind_of_subject

OUTAGES = int(os.environ.get("CHAOS_OUTAGES", "5"))
DOWN_SECONDS = 2.5            # > --alert-grace 1s
REWRITE_LIMIT_MS = 1000.0     # the issue: registry rewritten within 1 s of Redis accepting connections
EMITTER_RATE = 200            # adapter broadcasts/s into the node's room
NODE_RATE = 300               # node BROADCAST frames/s through busd
STEADY_SECONDS = 1.0          # Redis up between two outages
CHURN = 2                     # sockets connected and disconnected during each outage

COLUMNS = ("outage", "down_ms", "rewrite_ms", "resub_ms", "busd_outage_ms", "buffered_published",
           "buffered_dropped", "sent_while_down", "seen_after", "delivers_while_down", "alerts_ms")


def format_table(rows: list[dict]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in COLUMNS}
    lines = ["  ".join(c.rjust(widths[c]) for c in COLUMNS)]
    for row in rows:
        lines.append("  ".join(str(row.get(c, "")).rjust(widths[c]) for c in COLUMNS))
    return "\n".join(lines)


def check_alert_payloads(stack, expected: int) -> list[str]:
    """Problems with the notices received (each SMTP message and webhook POST)."""
    problems = []
    mails = stack.smtp.snapshot()
    for i, mail in enumerate(mails):
        kind = alert_kind_of_subject(mail["subject"])
        if kind == "other":
            problems.append(f"mail {i}: subject {mail['subject']!r} is neither '[socketbus] FIRING: ...' "
                            f"nor '[socketbus] RESOLVED: ...'")
        if sorted(mail["rcpt_tos"]) != sorted(SMTP_TO):
            problems.append(f"mail {i}: recipients {mail['rcpt_tos']} (want both of {list(SMTP_TO)})")
        if mail["mail_from"] != SMTP_FROM:
            problems.append(f"mail {i}: MAIL FROM {mail['mail_from']!r} (want {SMTP_FROM})")
        if not mail["body"].strip():
            problems.append(f"mail {i}: empty body")
    kinds = [alert_kind_of_subject(m["subject"]) for m in mails]
    if kinds != ["firing", "resolved"] * expected:
        problems.append(f"mails in order {kinds} (want firing, resolved × {expected})")

    posts = stack.webhook.snapshot()
    statuses = []
    firing_labels = firing_starts = None
    for i, post in enumerate(posts):
        body = post["json"]
        if post["method"] != "POST" or post["path"] != "/alerts":
            problems.append(f"webhook {i}: {post['method']} {post['path']} (want POST /alerts)")
        if post["headers"].get("authorization") != f"Bearer {stack.token}":
            problems.append(f"webhook {i}: Authorization {post['headers'].get('authorization')!r}")
        if not isinstance(body, dict):
            problems.append(f"webhook {i}: body is not a JSON object: {post['raw'][:200]!r}")
            statuses.append(None)
            continue
        statuses.append(body.get("status"))
        alerts = body.get("alerts")
        if not isinstance(alerts, list) or not alerts:
            problems.append(f"webhook {i}: no 'alerts' list: {body}")
            continue
        for alert in alerts:
            missing = [k for k in ("labels", "startsAt", "endsAt") if k not in alert]
            if missing:
                problems.append(f"webhook {i}: alert without {missing}: {alert}")
        labels = [a.get("labels") for a in alerts]
        starts = [a.get("startsAt") for a in alerts]
        if body.get("status") == "firing":
            firing_labels, firing_starts = labels, starts
        elif body.get("status") == "resolved" and firing_labels is not None:
            # Alertmanager semantics: the resolved notice is the same alert
            # (labels, startsAt) with a real endsAt.
            if labels != firing_labels:
                problems.append(f"webhook {i}: resolved labels {labels} differ from the firing ones {firing_labels}")
            if starts != firing_starts:
                problems.append(f"webhook {i}: resolved startsAt {starts} differ from the firing ones {firing_starts}")
            if any(str(a.get("endsAt", "")).startswith("0001-") for a in alerts):
                problems.append(f"webhook {i}: resolved alert without an endsAt: {alerts}")
    if statuses != ["firing", "resolved"] * expected:
        problems.append(f"webhook statuses in order {statuses} (want firing, resolved × {expected})")
    return problems


def undelivered(stack, kills: list[float], until: float) -> list[int]:
    """Emitter messages Redis handed to busd (PUBLISH counted 2 receivers:
    busd's pattern and the watcher's) that never reached the node, apart from
    those published just before a kill (Redis may count a receiver and die
    before writing the message out) and in the last second."""
    seen = stack.node.emitter_seen_at
    return [n for n, t, receivers in list(stack.emitter.published)
            if receivers >= 2 and n not in seen and t < until - 1.0
            and not any(k - 0.3 <= t <= k + 0.1 for k in kills)]


def alert_counts(stack) -> dict:
    mail, hook = stack.smtp.kinds(), stack.webhook.kinds()
    return {"mail_firing": mail["firing"], "mail_resolved": mail["resolved"], "mail_other": mail["other"],
            "hook_firing": hook["firing"], "hook_resolved": hook["resolved"], "hook_other": hook["other"]}


def expect_counts(n: int) -> dict:
    return {"mail_firing": n, "mail_resolved": n, "mail_other": 0,
            "hook_firing": n, "hook_resolved": n, "hook_other": 0}


@pytest.mark.timeout(60 + 15 * OUTAGES)
def test_redis_kill_restart_cycles(chaos_stack, tmp_path):
    stack = chaos_stack
    rows: list[dict] = []
    failures: list[str] = []
    summary_path = tmp_path / "chaos-summary.txt"
    busd_pid = stack.busd.process.pid

    def report(extra: str = "") -> str:
        text = (f"chaos: {OUTAGES} outages of {DOWN_SECONDS}s, {len(stack.node.live_sockets())} sockets, "
                f"emitter {EMITTER_RATE}/s, node {NODE_RATE}/s\n{format_table(rows)}")
        summary_path.write_text(text + "\n")
        return text + (f"\n{extra}" if extra else "")

    current: dict = {}

    def fail_now(message: str):
        partial = f"outage in progress: {current}" if current and current not in rows else ""
        SUMMARIES.append(("chaos: redis kill/restart (incomplete)", report(partial)))
        pytest.fail(f"{message}\n{report(partial)}\n{stack.describe()}", pytrace=False)

    def must(wait):
        """wait() or, on a time-out, fail with the table so far (outside the except: no chained trace)."""
        try:
            return wait()
        except AssertionError as exc:
            message = str(exc)
        fail_now(message)

    stack.start_load(EMITTER_RATE, NODE_RATE)
    must(lambda: stack.registry_in_sync(5, "the initial registry in Redis"))
    must(lambda: stack.emitter_reaches_node(5, "an emitter broadcast to reach the node at start"))
    must(lambda: wait_for(lambda: len(stack.watcher.subscribed_at) > 0, 5, "the adapter watcher's subscription"))
    time.sleep(1.2)  # longer than --alert-grace: a spurious alert at start would show now
    if alert_counts(stack) != expect_counts(0):
        fail_now(f"notices before any outage: {alert_counts(stack)}")

    kills: list[float] = []
    print(f"\n{format_table([])}", flush=True)
    for i in range(1, OUTAGES + 1):
        row = current = {"outage": i}
        if alert_counts(stack) != expect_counts(i - 1):
            fail_now(f"outage {i}: before it, notices are {alert_counts(stack)} (want {expect_counts(i - 1)})")
        watcher_generation = len(stack.watcher.subscribed_at)

        # -- down
        t_kill = time.monotonic()
        kills.append(t_kill)
        stack.redis.kill9()
        time.sleep(0.5)
        old = sorted(stack.node.live_sockets())[:CHURN]
        for sid in old:
            stack.node.disconnect_socket(sid)
        for _ in range(CHURN):
            stack.node.connect_socket(socket_id())
        time.sleep(max(0.0, t_kill + DOWN_SECONDS - time.monotonic()))
        if not stack.busd.running:
            fail_now(f"outage {i}: busd exited while Redis was down")

        # -- back up
        t_restart = time.monotonic()
        stack.redis.start()
        t_accept = stack.redis.wait_accepting()
        row["down_ms"] = round((t_accept - t_kill) * 1000)
        expected = stack.node.live_sockets()
        _, t_synced = must(lambda: wait_for(
            lambda: registry_matches(stack.check, expected), 5,
            f"outage {i}: the registry in Redis to equal the node's sockets",
            interval=0.005, detail=lambda: registry_diff(stack.check, expected)))
        row["rewrite_ms"] = round((t_synced - t_accept) * 1000)
        if row["rewrite_ms"] > REWRITE_LIMIT_MS:
            failures.append(f"outage {i}: registry rewritten {row['rewrite_ms']} ms after Redis accepted "
                            f"connections (limit {REWRITE_LIMIT_MS:.0f} ms)")
        t_fresh = must(lambda: stack.emitter_reaches_node(
            5, f"outage {i}: a fresh emitter broadcast to reach the node"))
        row["resub_ms"] = round((t_fresh - t_accept) * 1000)

        # busd's own account of the outage
        lines, _ = must(lambda: wait_for(
            lambda: found if len(found := stack.busd.reachable_again()) >= i else None, 5,
            f"outage {i}: busd's 'redis reachable again' log line"))
        line = lines[i - 1]
        if len(lines) != i:
            failures.append(f"outage {i}: {len(lines)} 'redis reachable again' lines after {i} outages")
        if line["level"] != "notice":
            failures.append(f"outage {i}: 'redis reachable again' logged at {line['level']!r}, not notice: "
                            f"{line['line']}")
        for key in ("outage_ms", "buffered_published", "buffered_dropped"):
            if not isinstance(line.get(key), int):
                failures.append(f"outage {i}: no integer {key}= in {line['line']!r}")
        row["busd_outage_ms"] = line.get("outage_ms")
        row["buffered_published"] = line.get("buffered_published")
        row["buffered_dropped"] = line.get("buffered_dropped")

        # the node's broadcasts while Redis was down: buffered, then published
        sent_down = stack.node.broadcasts_between(t_kill, t_accept)
        row["sent_while_down"] = len(sent_down)
        row["delivers_while_down"] = stack.node.delivers_between(t_kill, t_accept)
        # After recovery, a broadcast the node sends now must be published live.
        probe = len(stack.node.broadcast_times)
        must(lambda: wait_for(
            lambda: len(stack.watcher.subscribed_at) > watcher_generation
            and max(stack.watcher.seen, default=-1) >= probe, 5,
            f"outage {i}: a node broadcast sent after recovery to appear on Redis"))
        row["seen_after"] = sum(1 for n in sent_down if n in stack.watcher.seen)
        # Every broadcast the node sent while Redis was surely down and busd
        # surely knew it (from 1 s after the kill, > --redis-timeout, until the
        # restart) had to be buffered: published afterwards or counted dropped.
        surely_buffered = len(stack.node.broadcasts_between(t_kill + 1.0, t_restart))
        published, dropped = row["buffered_published"], row["buffered_dropped"]
        if isinstance(published, int) and isinstance(dropped, int):
            if published + dropped < surely_buffered:
                failures.append(f"outage {i}: the node sent {surely_buffered} broadcasts while Redis was down "
                                f"(1 s after the kill until the restart) but busd reports "
                                f"buffered_published={published} buffered_dropped={dropped}")
            if published + dropped > len(stack.node.broadcasts_between(t_kill - 1.0, t_accept + 2.0)):
                failures.append(f"outage {i}: busd reports {published}+{dropped} buffered broadcasts, more than "
                                f"the node sent around the outage")
            if dropped != 0:
                failures.append(f"outage {i}: {dropped} broadcasts dropped from a 100000-entry buffer")

        # the notices: one FIRING and one RESOLVED per outage, by mail and webhook
        _, t_alerts = must(lambda: wait_for(
            lambda: alert_counts(stack) == expect_counts(i), 10,
            f"outage {i}: one FIRING and one RESOLVED notice by mail and webhook",
            interval=0.02, detail=lambda: f"notices: {alert_counts(stack)}"))
        row["alerts_ms"] = round((t_alerts - t_accept) * 1000)
        if stack.node.dropped:
            fail_now(f"outage {i}: the node's connection dropped: {stack.node.dropped}")
        rows.append(row)
        print(format_table([row]).splitlines()[1], flush=True)
        time.sleep(STEADY_SECONDS)  # Redis up, load flowing: live traffic between outages

    # -- after the last outage: nothing more may come
    time.sleep(1.5)
    counts = alert_counts(stack)
    if counts != expect_counts(OUTAGES):
        failures.append(f"after {OUTAGES} outages the sinks hold {counts} (want {expect_counts(OUTAGES)})")
    failures += check_alert_payloads(stack, OUTAGES)
    if not stack.busd.running or stack.busd.process.pid != busd_pid:
        failures.append(f"busd is not the process started at the beginning (running={stack.busd.running})")
    started = stack.busd.log_text().count("busd started")
    if started != 1:
        failures.append(f"busd logged 'busd started' {started} times")
    if stack.node.dropped:
        failures.append(f"the node's connection dropped: {stack.node.dropped}")
    if not registry_matches(stack.check, stack.node.live_sockets()):
        failures.append("at the end: " + registry_diff(stack.check, stack.node.live_sockets()))
    lost = undelivered(stack, kills, time.monotonic())
    if lost:
        failures.append(f"{len(lost)} emitter broadcasts reached busd's subscription but never the node: "
                        f"{lost[:20]}")
    total_published = sum(r.get("buffered_published") or 0 for r in rows)
    if total_published <= 0:
        failures.append("busd reported no buffered-then-published broadcast over the whole run")
    total_seen = sum(r.get("seen_after") or 0 for r in rows)
    if total_seen <= 0:
        failures.append("no broadcast the node sent while Redis was down was ever seen on Redis afterwards")

    extra = (f"total buffered_published={total_published}, node broadcasts sent while down and seen on Redis "
             f"later={total_seen}, watcher duplicates={stack.watcher.duplicates}, out of order="
             f"{stack.watcher.order_breaks}, emitter publish failures={stack.emitter.failures}, "
             f"DELIVERs={stack.node.deliver_count}, emitter broadcasts busd received but did not deliver={len(lost)}, "
             f"node PINGs answered={stack.node.pings}; "
             f"busd log {stack.busd.log_path}")
    text = report(extra)
    SUMMARIES.append((f"chaos: redis kill/restart × {OUTAGES}", text))
    print(extra, flush=True)
    assert not failures, "\n".join(failures) + "\n" + text + "\n" + stack.describe()


def _pause_round(stack, name: str, pause, seconds: float) -> dict:
    """Runs pause() (which makes Redis silent for `seconds`) in a thread;
    meanwhile the node connects a socket. Then checks busd recovered."""
    errors = []

    def run():
        try:
            pause()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    t0 = time.monotonic()
    thread = threading.Thread(target=run, name=f"pause-{name}", daemon=True)
    thread.start()
    time.sleep(0.5)
    new_sid = socket_id("P")
    stack.node.connect_socket(new_sid)
    thread.join(seconds + 10)
    assert not thread.is_alive(), f"{name}: the pausing command did not return"
    assert not errors, f"{name}: {errors[0]!r}"
    remaining = t0 + seconds - time.monotonic()
    if remaining > 0:  # CLIENT PAUSE returns at once; the pause lasts `seconds`
        time.sleep(remaining)
    t_end = time.monotonic()

    assert stack.busd.running, f"{name}: busd exited\n{stack.describe()}"
    assert stack.node.dropped is None, f"{name}: the node's connection dropped: {stack.node.dropped}"
    _, t_sync = stack.registry_in_sync(5, f"{name}: the registry (with {new_sid}, connected during the pause)")
    owner = stack.check.hget("socketbus:owner", new_sid)
    assert owner is not None and owner.decode().startswith(NODE_ID + "\t"), owner
    t_fresh = stack.emitter_reaches_node(5, f"{name}: a fresh emitter broadcast to reach the node")
    assert stack.busd.running, f"{name}: busd exited\n{stack.describe()}"
    assert stack.node.dropped is None, f"{name}: the node's connection dropped: {stack.node.dropped}"
    return {"pause": name, "t0": t0, "registry_ms_after": round(max(0.0, t_sync - t_end) * 1000),
            "delivery_ms_after": round(max(0.0, t_fresh - t_end) * 1000)}


@pytest.mark.timeout(60)
def test_redis_paused(chaos_stack, tmp_path):
    """Redis reachable but silent: DEBUG SLEEP 3, then CLIENT PAUSE 3000 ALL."""
    stack = chaos_stack
    stack.start_load(EMITTER_RATE, NODE_RATE)
    stack.registry_in_sync(5, "the initial registry in Redis")
    stack.emitter_reaches_node(5, "an emitter broadcast to reach the node at start")
    admin = redis.Redis(port=stack.redis.port, socket_timeout=15, socket_connect_timeout=2)
    results = [
        _pause_round(stack, "DEBUG SLEEP 3", lambda: admin.execute_command("DEBUG", "SLEEP", "3"), 3.0),
        _pause_round(stack, "CLIENT PAUSE 3000 ALL",
                     lambda: admin.execute_command("CLIENT", "PAUSE", "3000", "ALL"), 3.0),
    ]
    admin.close()

    # Each outage busd noticed must be resolved: a FIRING without its RESOLVED is a stuck alert.
    def balanced():
        c = alert_counts(stack)
        return c["mail_firing"] == c["mail_resolved"] and c["hook_firing"] == c["hook_resolved"]

    time.sleep(1.5)
    wait_for(balanced, 10, "every FIRING notice to have its RESOLVED notice",
             detail=lambda: f"notices: {alert_counts(stack)}")
    counts = alert_counts(stack)
    problems = check_alert_payloads(stack, counts["mail_firing"]) if counts["mail_firing"] == counts["hook_firing"] \
        else [f"mail and webhook disagree: {counts}"]
    lines = stack.busd.reachable_again()
    text = "\n".join(f"{r['pause']}: registry in sync {r['registry_ms_after']} ms and a fresh broadcast delivered "
                     f"{r['delivery_ms_after']} ms after Redis answered again" for r in results)
    lost = undelivered(stack, [], time.monotonic())
    text += (f"\nnode broadcasts seen on Redis {len(stack.watcher.seen)} of {len(stack.node.broadcast_times)} sent, "
             f"seen twice {stack.watcher.duplicates}, out of order {stack.watcher.order_breaks}; emitter broadcasts "
             f"busd received but did not deliver: {len(lost)}")
    for n, first, again in stack.watcher.duplicate_log[:10]:
        sent = stack.node.broadcast_times[n]
        start = max((r for r in results if r["t0"] <= sent), key=lambda r: r["t0"], default=results[0])
        text += (f"\n  node broadcast {n} published twice: sent {1000 * (sent - start['t0']):.0f} ms after "
                 f"{start['pause']} began, seen at +{1000 * (first - start['t0']):.0f} ms and again at "
                 f"+{1000 * (again - start['t0']):.0f} ms")
    text += (f"\nnotices {counts}; busd 'redis reachable again' lines: "
             + "; ".join(f"outage_ms={l.get('outage_ms')} buffered_published={l.get('buffered_published')} "
                         f"buffered_dropped={l.get('buffered_dropped')}" for l in lines))
    (tmp_path / "pause-summary.txt").write_text(text + "\n")
    SUMMARIES.append(("chaos: DEBUG SLEEP / CLIENT PAUSE", text))
    assert stack.busd.running, stack.describe()
    assert stack.node.dropped is None, stack.node.dropped
    assert stack.busd.log_text().count("busd started") == 1
    assert not problems, "\n".join(problems) + "\n" + text
