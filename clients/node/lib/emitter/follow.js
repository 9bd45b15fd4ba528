"use strict";
// Following a message id's confirmation records live. The subscription is
// made at once (`ready` settles when Redis confirmed it) and dropped by
// close(), by the iterator's return() (a `break` out of for-await), or by
// `signal` aborting. Malformed records are skipped.

const { parseRecord } = require("./records");

function follow(redis, channel, { onRecord, signal, messageId } = {}) {
  const queue = [];
  let waiter = null;
  let closed = false;
  let failure = null;
  let unsubscribe = null;

  const push = (message) => {
    const record = parseRecord(message);
    // A record naming another message is someone else's (or forged): skipped.
    if (!record || closed || (messageId !== undefined && record.messageId !== messageId)) return;
    if (onRecord) {
      try {
        onRecord(record);
      } catch {
        // The callback's failure does not end the subscription.
      }
      return;
    }
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.resolve({ value: record, done: false });
    } else queue.push(record);
  };

  const ready = redis.subscribe(channel, push).then(
    async (off) => {
      unsubscribe = off;
      if (closed) await off();
    },
    (error) => {
      failure = error;
      closed = true;
      if (waiter) waiter.reject(error);
      throw error;
    },
  );
  ready.catch(() => {});

  async function close() {
    closed = true;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.resolve({ value: undefined, done: true });
    }
    await ready.catch(() => {});
    if (unsubscribe) {
      const off = unsubscribe;
      unsubscribe = null;
      await off();
    }
  }
  if (signal) {
    if (signal.aborted) close();
    else signal.addEventListener("abort", () => close(), { once: true });
  }

  /** The next record, or null after `ms` without one (or once closed). */
  async function next(ms) {
    if (queue.length) return queue.shift();
    if (failure) throw failure;
    if (closed) return null;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = null;
        resolve(null);
      }, Math.max(0, ms));
      waiter = {
        resolve: (r) => (clearTimeout(timer), resolve(r.done ? null : r.value)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  return {
    ready,
    close,
    next,
    [Symbol.asyncIterator]() {
      return {
        next: async () => {
          if (queue.length) return { value: queue.shift(), done: false };
          if (failure) throw failure;
          if (closed) return { value: undefined, done: true };
          return new Promise((resolve, reject) => (waiter = { resolve, reject }));
        },
        return: async () => {
          await close();
          return { value: undefined, done: true };
        },
      };
    },
  };
}

module.exports = { follow };
