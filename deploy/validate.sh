#!/usr/bin/env bash
# Checks the files in deploy/ with whatever this machine has: one line per
# check (ok, FAIL or skip), a summary line, exit 1 if any check failed.
# A missing tool is a skip, not a failure. Run from anywhere; `make test`
# runs it after building, with SOCKETBUS_BIN_DIR pointing at busd.
set -euo pipefail

deploy=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$deploy")
tmp=$(mktemp -d)
# busd --check-config wants the socket's directory to exist; the deploy
# files use /run/socketbus, which systemd's RuntimeDirectory=, the pod's
# volume or the pm2 host's setup provides. Made here (and removed) if need be.
made_run_dir=0
trap 'rm -rf "$tmp"; if ((made_run_dir)); then rmdir /run/socketbus 2>/dev/null || true; fi' EXIT
passed=0 failed=0 skipped=0

ok() { printf 'ok    %s\n' "$1"; passed=$((passed + 1)); }
skip() { printf 'skip  %s: %s\n' "$1" "$2"; skipped=$((skipped + 1)); }
fail() {
    printf 'FAIL  %s\n' "$1"
    [[ -s $2 ]] && sed 's/^/      /' "$2"
    failed=$((failed + 1))
}
# check NAME COMMAND...: ok when COMMAND exits 0; its output is shown on failure.
check() {
    local name=$1 out="$tmp/out"
    shift
    if "$@" >"$out" 2>&1; then ok "$name"; else fail "$name" "$out"; fi
}

# --- systemd ---------------------------------------------------------------
# verify wants ExecStart to exist, so an instance copy points at a dummy
# executable; it also exits 0 on unknown keys and bad values, merely printing
# them, so any output counts as a failure.
verify_unit() {
    local dir="$tmp/systemd"
    mkdir -p "$dir"
    printf '#!/bin/sh\nexit 0\n' >"$dir/busd"
    chmod +x "$dir/busd"
    sed "s#/usr/local/lib/socketbus/busd#$dir/busd#g" "$deploy/busd@.service" >"$dir/busd@web-1.service"
    systemd-analyze verify "$dir/busd@web-1.service" >"$dir/verify.log" 2>&1 || { cat "$dir/verify.log"; return 1; }
    if [[ -s $dir/verify.log ]]; then cat "$dir/verify.log"; return 1; fi
}
# Exposure <= 2.0 (systemd's scale: 0 best, 10 worst) guards the sandbox.
unit_exposure() {
    systemd-analyze security --offline=true --threshold=20 "$tmp/systemd/busd@web-1.service" >"$tmp/security.log" 2>&1 ||
        { grep -F '✗' "$tmp/security.log"; return 1; }
}
# busd drains for up to drain.deadline (10 s) after SIGTERM.
unit_stop_budget() {
    local t
    t=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$deploy/busd@.service")
    [[ -n $t && $t -gt 10 ]] || { echo "TimeoutStopSec=${t:-unset} must exceed drain.deadline (10 s)"; return 1; }
}
if command -v systemd-analyze >/dev/null; then
    check "systemd: systemd-analyze verify busd@web-1.service" verify_unit
    if [[ -s $tmp/systemd/busd@web-1.service ]]; then
        unit_exposure || true
        level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.log")
        check "systemd: systemd-analyze security exposure ${level:-?} <= 2.0" unit_exposure
    fi
    check "systemd: TimeoutStopSec > drain.deadline" unit_stop_budget
else
    skip "systemd: busd@.service" "systemd-analyze not installed"
fi

# --- Containerfile -----------------------------------------------------------
# No container engine runs here; check that the apt package names exist in
# Debian 12, which both stages are based on.
apt_names() {
    local names
    names=$(sed -n 's/^ARG \(BUILD\|RUNTIME\)_PACKAGES="\(.*\)"$/\2/p' "$deploy/Containerfile")
    [[ -n $names ]] || { echo "no ARG BUILD_PACKAGES/RUNTIME_PACKAGES in Containerfile"; return 1; }
    local name bad=0
    for name in $names; do
        # No `| grep -q` here or below: with pipefail, the writer's SIGPIPE fails the pipe.
        if [[ $(apt-cache policy "$name" 2>/dev/null) == *"Candidate: "[0-9]* ]]; then
            echo "$name"
        else
            echo "$name: not in this machine's apt lists"
            bad=1
        fi
    done
    return "$bad"
}
# A busd built as the Containerfile does (static Swift runtime) may only need
# libraries from the runtime stage's packages or the base image.
runtime_libs() {
    local bin=$1 lib pkg bad=0
    local allowed
    allowed=" libc6 libgcc-s1 libstdc++6 $(sed -n 's/^ARG RUNTIME_PACKAGES="\(.*\)"$/\1/p' "$deploy/Containerfile") "
    for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        pkg=$(dpkg -S "*/$lib" 2>/dev/null | grep -v -- '-dev' | head -n 1 | cut -d: -f1 || true)
        if [[ $lib == libswift* || $lib == libFoundation* || -z $pkg || $allowed != *" $pkg "* ]]; then
            echo "$lib (${pkg:-no package}) is not in the runtime image"
            bad=1
        fi
    done
    return "$bad"
}
if command -v apt-cache >/dev/null && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    check "container: apt packages exist in Debian bookworm" apt_names
else
    skip "container: apt packages" "not on Debian bookworm"
fi
static_busd=${SOCKETBUS_STATIC_BUSD:-$root/.build-deploy/release/busd}
if [[ -x $static_busd ]] && command -v readelf >/dev/null && command -v dpkg >/dev/null; then
    check "container: runtime stage provides every library busd links" runtime_libs "$static_busd"
else
    skip "container: runtime libraries" "no static busd (swift build -c release --static-swift-stdlib --product busd --scratch-path .build-deploy)"
fi

# --- nginx -------------------------------------------------------------------
# A wrapper that includes our file inside http { }, with every path in a temp
# prefix so no root-owned file is needed.
nginx_test() {
    local p="$tmp/nginx"
    mkdir -p "$p/logs"
    cat >"$p/nginx.conf" <<EOF
pid $p/nginx.pid;
error_log $p/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $p/body;
    proxy_temp_path $p/proxy;
    include $deploy/nginx/socketio.conf;
}
EOF
    nginx -t -p "$p" -c "$p/nginx.conf"
}
if command -v nginx >/dev/null; then
    check "nginx: nginx -t with nginx/socketio.conf" nginx_test
else
    skip "nginx: nginx/socketio.conf" "nginx not installed (apt-get install nginx)"
fi

# --- pm2 -----------------------------------------------------------------------
pm2_check() {
    node - "$deploy/pm2/ecosystem.config.js" "$deploy/nginx/socketio.conf" <<'EOF'
const fs = require("fs");
const [file, nginxFile] = process.argv.slice(2);
const { apps } = require(file);
const problems = [];
const unique = (what, values) => {
  const seen = new Set();
  for (const v of values) { if (seen.has(v)) problems.push(`${what} ${v} used twice`); seen.add(v); }
};
const arg = (app, flag) => { const i = app.args.indexOf(flag); return i < 0 ? undefined : app.args[i + 1]; };
if (!Array.isArray(apps) || apps.length === 0) problems.push("no apps");
const busds = apps.filter((a) => a.name.startsWith("busd-"));
const nodes = apps.filter((a) => a.name.startsWith("socketio-"));
unique("name", apps.map((a) => a.name));
for (const a of apps) if (a.exec_mode !== "fork") problems.push(`${a.name}: exec_mode ${a.exec_mode}, want fork`);
for (const b of busds) if (!(b.kill_timeout > 10000)) problems.push(`${b.name}: kill_timeout must exceed drain.deadline`);
unique("port", nodes.map((a) => a.env.PORT));
unique("busd socket", busds.map((b) => arg(b, "--socket")));
unique("busd http", busds.map((b) => arg(b, "--http")));
const sockets = new Set(busds.map((b) => arg(b, "--socket")));
for (const n of nodes) if (!sockets.has(n.env.SOCKETBUS_SOCKET_PATH)) problems.push(`${n.name}: no busd on ${n.env.SOCKETBUS_SOCKET_PATH}`);
if (busds.length !== nodes.length) problems.push(`${busds.length} busd for ${nodes.length} Socket.IO processes`);
const upstream = [...fs.readFileSync(nginxFile, "utf8").matchAll(/^\s*server\s+127\.0\.0\.1:(\d+);/gm)].map((m) => m[1]);
const ports = nodes.map((n) => n.env.PORT);
if (upstream.sort().join() !== ports.sort().join()) problems.push(`nginx upstream ${upstream} != pm2 ports ${ports}`);
if (problems.length) { console.log(problems.join("\n")); process.exit(1); }
EOF
}
if command -v node >/dev/null; then
    check "pm2: ecosystem.config.js loads; names, ports, sockets unique; matches nginx upstream" pm2_check
else
    skip "pm2: ecosystem.config.js" "node not installed"
fi

# --- YAML --------------------------------------------------------------------
yaml_python=""
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import yaml' 2>/dev/null; then yaml_python=$py; break; fi
done
if [[ -z $yaml_python ]] && command -v python3 >/dev/null; then
    # A throwaway venv, gone with $tmp.
    if python3 -m venv "$tmp/venv" >/dev/null 2>&1 && "$tmp/venv/bin/pip" install -q pyyaml >/dev/null 2>&1; then
        yaml_python=$tmp/venv/bin/python
    fi
fi

k8s_check() {
    "$yaml_python" - "$deploy/kubernetes/socketio-with-busd.yaml" "$tmp/configmap-busd.yaml" "$tmp/k8s-env.txt" <<'EOF'
import re, sys, yaml
path, config_out, env_out = sys.argv[1:]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
problems = []
kinds = {d["kind"]: d for d in docs}
cm, dep = kinds.get("ConfigMap"), kinds.get("Deployment")
if not cm or not dep:
    sys.exit("want a ConfigMap and a Deployment, got %s" % sorted(kinds))
config = yaml.safe_load(cm["data"]["busd.yaml"])
open(config_out, "w").write(cm["data"]["busd.yaml"])
pod = dep["spec"]["template"]["spec"]
if dep["spec"]["selector"]["matchLabels"].items() - dep["spec"]["template"]["metadata"]["labels"].items():
    problems.append("selector does not match the pod labels")
containers = pod.get("initContainers", []) + pod["containers"]
names = [c["name"] for c in containers]
if len(set(names)) != len(names):
    problems.append("container names repeat: %s" % names)
volumes = {v["name"]: v for v in pod["volumes"]}
for c in containers:
    for m in c.get("volumeMounts", []):
        if m["name"] not in volumes:
            problems.append("%s mounts unknown volume %s" % (c["name"], m["name"]))
    sc = c.get("securityContext", {})
    if not (sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
            and sc.get("capabilities", {}).get("drop") == ["ALL"]):
        problems.append("%s: securityContext not locked down" % c["name"])
if not pod.get("securityContext", {}).get("runAsNonRoot"):
    problems.append("pod: runAsNonRoot missing")
busd = next((c for c in containers if c["name"] == "busd"), None)
app = next((c for c in pod["containers"] if c["name"] != "busd"), None)
if not busd or not app:
    sys.exit("want a busd container and an app container, got %s" % names)
if busd in pod.get("initContainers", []) and busd.get("restartPolicy") != "Always":
    problems.append("busd in initContainers without restartPolicy: Always would block the pod")
cm_volume = [n for n, v in volumes.items() if v.get("configMap", {}).get("name") == cm["metadata"]["name"]]
config_dirs = [m["mountPath"] for m in busd["volumeMounts"] if m["name"] in cm_volume]
if "/etc/socketbus" not in config_dirs or "/etc/socketbus/busd.yaml" not in busd.get("args", []):
    problems.append("busd does not read the ConfigMap at /etc/socketbus/busd.yaml")
env = {e["name"]: e for e in busd.get("env", [])}
open(env_out, "w").write("".join(n + "\n" for n in env if n.startswith("SOCKETBUS_")))
if env.get("SOCKETBUS_NODE_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
    problems.append("SOCKETBUS_NODE_ID is not the pod name")
if "secretKeyRef" not in env.get("SOCKETBUS_REDIS_PASSWORD", {}).get("valueFrom", {}):
    problems.append("SOCKETBUS_REDIS_PASSWORD is not from a Secret")
# The socket: same path in busd's config and the app's env, in a volume both mount.
socket = config.get("socket", {}).get("path", "/run/socketbus/busd.sock")
app_socket = {e["name"]: e.get("value") for e in app.get("env", [])}.get("SOCKETBUS_SOCKET_PATH")
if app_socket != socket:
    problems.append("app's SOCKETBUS_SOCKET_PATH %s != busd's socket.path %s" % (app_socket, socket))
def volume_for(c, p):
    hits = [m for m in c.get("volumeMounts", []) if p.startswith(m["mountPath"].rstrip("/") + "/")]
    return max(hits, key=lambda m: len(m["mountPath"]))["name"] if hits else None
if not volume_for(busd, socket) or volume_for(busd, socket) != volume_for(app, socket):
    problems.append("busd and the app do not share the socket's directory")
# Probes: on busd's declared port; busd must listen beyond loopback for them.
ports = {p["name"]: p["containerPort"] for p in busd.get("ports", [])}
for probe, want in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    get = busd.get(probe, {}).get("httpGet", {})
    if get.get("path") != want or get.get("port") not in ports:
        problems.append("busd %s: want httpGet %s on a declared port" % (probe, want))
# Liveness restarts busd: not on one slow answer (explicit timeout >= 2 s,
# the status server's request deadline) nor within 20 s of the first failure.
live = busd.get("livenessProbe", {})
if live.get("timeoutSeconds", 1) < 2 or live.get("periodSeconds", 10) * (live.get("failureThreshold", 3) - 1) < 20:
    problems.append("busd livenessProbe: want timeoutSeconds >= 2 and (failureThreshold - 1) x periodSeconds >= 20")
listen = str(config.get("http", {}).get("listen", "127.0.0.1:9477"))
host, _, port = listen.rpartition(":")
if host in ("127.0.0.1", "localhost", "[::1]") or int(port) not in ports.values():
    problems.append("http.listen %s is not reachable by the kubelet on a declared port" % listen)
def seconds(v):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", str(v))
    return float(m[1]) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m[2]]
drain = seconds(config.get("drain", {}).get("deadline", "10s"))
if not pod.get("terminationGracePeriodSeconds", 30) > drain:
    problems.append("terminationGracePeriodSeconds must exceed drain.deadline %ss" % drain)
if problems:
    sys.exit("\n".join(problems))
EOF
}
yaml_parse() { "$yaml_python" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$1"; }
if [[ -n $yaml_python ]]; then
    check "kubernetes: socketio-with-busd.yaml parses; names, volumes, probes, secrets, socket path agree" k8s_check
    if [[ -f $deploy/busd.yaml ]]; then
        check "config: busd.yaml parses" yaml_parse "$deploy/busd.yaml"
    else
        skip "config: busd.yaml" "deploy/busd.yaml not there"
    fi
else
    skip "kubernetes and config YAML" "no Python with PyYAML, and none could be installed"
fi

# --- busd --check-config ----------------------------------------------------
# busd's own parser on what the deploy files hand it, once busd has
# --check-config: the example configs, the flags in the unit and the pm2 file,
# and every SOCKETBUS_* variable they set (each must show up as a source, so a
# misspelt name, which busd would ignore, fails). A clean environment, so the
# caller's SOCKETBUS_* variables do not leak in.
busd=""
for dir in ${SOCKETBUS_BIN_DIR:+"$SOCKETBUS_BIN_DIR"} "$root/.build/debug" "$root/.build/release"; do
    if [[ -x $dir/busd ]]; then busd=$dir/busd; break; fi
done
# check_config [NAME=value...] [flag...]
check_config() {
    local a envs=() flags=()
    for a in "$@"; do
        if [[ $a =~ ^[A-Z_][A-Z0-9_]*= ]]; then envs+=("$a"); else flags+=("$a"); fi
    done
    env -i PATH="$PATH" "${envs[@]}" "$busd" --check-config "${flags[@]}"
}
# The config the unit and pm2 read from /etc/socketbus/busd.yaml.
if [[ -f $deploy/busd.yaml ]]; then etc_config=$deploy/busd.yaml; else etc_config=$tmp/configmap-busd.yaml; fi
unit_flags() {
    local line args
    line=$(sed -n 's/^ExecStart=[^ ]* //p' "$deploy/busd@.service")
    read -ra args <<<"${line//%i/web-1}"
    check_config "${args[@]//\/etc\/socketbus\/busd.yaml/$etc_config}"
}
pm2_flags() {
    local args
    mapfile -t args < <(node -e 'for (const a of require(process.argv[1]).apps.filter((a) => a.name === "busd-1")[0].args) console.log(a)' "$deploy/pm2/ecosystem.config.js")
    check_config "${args[@]//\/etc\/socketbus\/busd.yaml/$etc_config}"
}
env_names() {
    local out name vars=()
    # NAME=value from busd.env.example (commented ones too); Kubernetes' get "x".
    while IFS='=' read -r name value; do
        vars+=("$name=${value:-x}")
    done < <(sed -n 's/^[# ]*\(SOCKETBUS_[A-Z_]*=[^ ]*\).*/\1/p' "$deploy/busd.env.example")
    while read -r name; do vars+=("$name=x"); done <"$tmp/k8s-env.txt"
    out=$(check_config "${vars[@]}" --config "$etc_config") || { echo "$out"; return 1; }
    for name in "${vars[@]%%=*}"; do
        [[ $out == *"environment $name"* ]] || { echo "busd does not read $name"; return 1; }
    done
}
if [[ ! -d /run/socketbus ]] && mkdir -m 0750 /run/socketbus 2>/dev/null; then made_run_dir=1; fi
if [[ -z $busd ]]; then
    skip "busd --check-config" "no built busd"
elif [[ ! -d /run/socketbus ]]; then
    skip "busd --check-config" "/run/socketbus (the deploy files' socket directory) is missing and cannot be made here"
elif [[ $("$busd" --help 2>&1) != *--check-config* ]]; then
    skip "busd --check-config" "$busd has no --check-config yet"
else
    if [[ -f $deploy/busd.yaml ]]; then
        check "config: busd --check-config busd.yaml" check_config --config "$deploy/busd.yaml"
    fi
    if [[ -f $deploy/cluster/busd.yaml ]]; then
        check "cluster: busd --check-config cluster/busd.yaml" check_config --config "$deploy/cluster/busd.yaml"
    fi
    if [[ -s $tmp/configmap-busd.yaml ]]; then
        check "kubernetes: busd --check-config on the ConfigMap's busd.yaml" check_config --config "$tmp/configmap-busd.yaml"
        check "systemd: busd --check-config accepts ExecStart's flags" unit_flags
        if command -v node >/dev/null; then check "pm2: busd --check-config accepts busd-1's args" pm2_flags; fi
        check "env: busd reads every SOCKETBUS_* name in busd.env.example and the manifest" env_names
    fi
    check "sentinel: busd --check-config sentinel/busd.yaml" \
        check_config SOCKETBUS_REDIS_SENTINEL_PASSWORD=x --config "$deploy/sentinel/busd.yaml"
    if command -v redis-server >/dev/null && command -v curl >/dev/null && command -v python3 >/dev/null; then
        check "sentinel: the example runs (master, replica, 3 sentinels, busd) and follows a fail-over" \
            "$deploy/sentinel/try-local.sh" "$busd"
    else
        skip "sentinel: the example" "needs redis-server, curl and python3"
    fi
fi

# --- Grafana and Prometheus -------------------------------------------------
# Structure only; that every metric they name exists in busd's /metrics is
# checked on a real busd by Tests/BusCtlTests/MetricsExpositionTests.swift.
monitoring_check() {
    "$yaml_python" - "$deploy/grafana/socketbus-dashboard.json" "$deploy/prometheus/socketbus-alerts.yml" <<'EOF'
import json, sys, yaml
dashboard_path, rules_path = sys.argv[1:]
problems = []
dashboard = json.load(open(dashboard_path))
ids = [p.get("id") for p in dashboard.get("panels", [])]
if not ids or len(set(ids)) != len(ids):
    problems.append("dashboard: panels missing or ids repeat")
for panel in dashboard.get("panels", []):
    if not panel.get("title") or not all(t.get("expr") and t.get("refId") for t in panel.get("targets", [])) \
            or not panel.get("targets"):
        problems.append("dashboard panel %s: want a title and targets with expr and refId" % panel.get("id"))
rules = yaml.safe_load(open(rules_path))
names = []
for group in rules.get("groups", []):
    for rule in group.get("rules", []):
        names.append(rule.get("alert"))
        if not rule.get("expr") or rule.get("labels", {}).get("severity") not in ("critical", "warning") \
                or not rule.get("annotations", {}).get("summary"):
            problems.append("rule %s: want expr, labels.severity and annotations.summary" % rule.get("alert"))
if len(names) < 5 or len(set(names)) != len(names) or None in names:
    problems.append("alerts: want at least 5 uniquely named rules, got %s" % names)
print("\n".join(problems))
sys.exit(1 if problems else 0)
EOF
}
if [[ -n $yaml_python ]]; then
    check "monitoring: Grafana dashboard and Prometheus rules are well-formed" monitoring_check
else
    skip "monitoring: dashboard and rules" "needs python3 with PyYAML"
fi
if command -v promtool >/dev/null; then
    check "monitoring: promtool check rules" promtool check rules "$deploy/prometheus/socketbus-alerts.yml"
else
    skip "monitoring: promtool check rules" "no promtool"
fi

# --- runbook ---------------------------------------------------------------
# Every log line at warning or above, fatal stderr line, exit status and
# /readyz reason in Sources/ has its entry in docs/runbook.md; the failure
# output names each one missing or stale.
if command -v python3 >/dev/null; then
    check "runbook: docs/runbook.md covers every warning/error line, exit status and /readyz reason" \
        python3 "$root/scripts/check-runbook.py"
else
    skip "runbook: docs/runbook.md" "no python3"
fi

printf 'deploy: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[[ $failed -eq 0 ]]
