// pm2 on one host: N Socket.IO server processes behind nginx (ip_hash), each
// with its own busd.   pm2 start deploy/pm2/ecosystem.config.js
//
// Fork mode, not pm2 cluster mode: cluster mode shares one port among the
// workers and hands connections out round-robin, so nginx cannot pin a client
// to a process (Socket.IO's long-polling needs every request of a session on
// the same process), and every worker would share one busd socket and node id
// where busd needs one per process. Here process i listens on 3000+i and talks
// to busd-i on /run/socketbus/busd-i.sock.
//
// /run/socketbus must exist and belong to the pm2 user (deploy/README.md).
"use strict";

const INSTANCES = Number(process.env.SOCKETIO_INSTANCES || 4); // nginx lists 3001..3004
const APP_SCRIPT = process.env.SOCKETIO_SCRIPT || "/srv/chat/server.js";
const BUSD = "/usr/local/lib/socketbus/busd";

const apps = [];
for (let i = 1; i <= INSTANCES; i++) {
  const socket = `/run/socketbus/busd-${i}.sock`;
  apps.push({
    // busd's node id defaults to "<hostname>/busd-<i>" (from the socket name).
    name: `busd-${i}`,
    script: BUSD,
    interpreter: "none",
    exec_mode: "fork",
    args: ["--config", "/etc/socketbus/busd.yaml", "--socket", socket, "--http", `127.0.0.1:${9477 + i}`],
    // pm2 stops with SIGINT, which busd drains on like SIGTERM, and SIGKILLs
    // after kill_timeout: its default (1.6 s) would cut drain.deadline (10 s) short.
    kill_timeout: 20000,
    autorestart: true,
    restart_delay: 2000,
    max_restarts: 10,
    min_uptime: "10s",
    // Secrets (SOCKETBUS_REDIS_PASSWORD, ...) come from pm2's own
    // environment, not from this file.
  });
  apps.push({
    name: `socketio-${i}`,
    script: APP_SCRIPT,
    exec_mode: "fork",
    instances: 1,
    kill_timeout: 15000,
    autorestart: true,
    env: {
      NODE_ENV: "production",
      PORT: String(3000 + i),
      // The app passes it to the connector: createAdapter({ path: process.env.SOCKETBUS_SOCKET_PATH })
      SOCKETBUS_SOCKET_PATH: socket,
    },
  });
}

module.exports = { apps };
