"use strict";
// The application's Redis client, duck-typed: node-redis 4 (camelCase
// commands, `subscribe(channel, listener, bufferMode)`, `connect()` after
// `duplicate()`) or ioredis (lowercase commands, `call`, subscriptions
// reported as events). One subscriber connection per emitter, duplicated
// lazily; each channel is subscribed while it has a listener and
// unsubscribed when its last listener goes.

function isNodeRedis(client) {
  return typeof client.sendCommand === "function" && typeof client.lRange === "function";
}

class RedisAdapterClient {
  constructor(client) {
    if (!client || typeof client.publish !== "function" || typeof client.duplicate !== "function") {
      throw new TypeError("Emitter needs a Redis client with publish() and duplicate() (node-redis 4 or ioredis)");
    }
    this.client = client;
    this.nodeRedis = isNodeRedis(client);
    this.subscriber = null;
    this.listeners = new Map(); // channel -> Set(listener(Buffer))
    this.pending = new Map(); // channel -> Promise of the SUBSCRIBE
  }

  /** PUBLISH; resolves to the number of receivers. */
  async publish(channel, payload) {
    return Number(await this.client.publish(channel, payload));
  }

  /** Any command, replies as the client gives them (strings). */
  async command(args) {
    if (this.nodeRedis) return this.client.sendCommand(args.map(String));
    // ioredis 5 has call(); 4 has send_command().
    if (typeof this.client.call === "function") return this.client.call(...args.map(String));
    return this.client.send_command(String(args[0]), ...args.slice(1).map(String));
  }

  async lrange(key, start, stop) {
    const reply = await this.command(["LRANGE", key, start, stop]);
    if (!Array.isArray(reply)) throw new Error(`unexpected reply to LRANGE: ${reply}`);
    return reply.map(String);
  }

  async subscriberConnection() {
    if (!this.subscriber) {
      this.subscriber = (async () => {
        const sub = this.client.duplicate();
        if (this.nodeRedis) {
          // node-redis reports connection errors as events; unhandled they would throw.
          if (typeof sub.on === "function") sub.on("error", () => {});
          await sub.connect();
        } else {
          sub.on("error", () => {});
          sub.on("messageBuffer", (channel, message) => this.deliver(String(channel), message));
        }
        return sub;
      })();
      this.subscriber.catch(() => (this.subscriber = null));
    }
    return this.subscriber;
  }

  deliver(channel, message) {
    for (const listener of this.listeners.get(channel) || []) {
      try {
        listener(Buffer.isBuffer(message) ? message : Buffer.from(String(message)));
      } catch {
        // A listener's failure is its own; the others still get the message.
      }
    }
  }

  /** Subscribes `listener` to `channel`; resolves once Redis confirmed, to a function that unsubscribes it. */
  async subscribe(channel, listener) {
    const sub = await this.subscriberConnection();
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      const subscribing = this.nodeRedis
        ? sub.subscribe(channel, (message) => this.deliver(channel, message), true)
        : sub.subscribe(channel);
      this.pending.set(channel, subscribing);
      try {
        await subscribing;
      } catch (error) {
        this.listeners.delete(channel);
        throw error;
      } finally {
        this.pending.delete(channel);
      }
    } else if (this.pending.has(channel)) {
      await this.pending.get(channel);
    }
    set.add(listener);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(channel) === set) {
        this.listeners.delete(channel);
        await sub.unsubscribe(channel);
      }
    };
  }

  /** Closes the subscriber connection (the application's own client stays open). */
  async close() {
    const pending = this.subscriber;
    this.subscriber = null;
    this.listeners.clear();
    if (!pending) return;
    const sub = await pending.catch(() => null);
    if (!sub) return;
    if (typeof sub.quit === "function") await sub.quit().catch(() => sub.disconnect && sub.disconnect());
    else if (typeof sub.disconnect === "function") await sub.disconnect();
  }
}

module.exports = { RedisAdapterClient };
