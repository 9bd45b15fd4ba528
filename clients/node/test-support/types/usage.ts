// A typed use of the whole public API, compiled with `tsc --strict --noEmit`
// against the packed package's index.d.ts (test/package.test.js). Lines
// marked @ts-expect-error must stay errors: if a type decays to `any`, tsc
// reports the directive as unused and the check fails.

import { createAdapter, SocketBusAdapter, BusConnection, frames, Emitter } from "@socketbus/connector";
import type {
    AdapterOptions,
    AdapterStats,
    ConfirmationResult,
    DeliveryRecord,
    Frame,
    SocketBusAdapterClass,
    Welcome,
} from "@socketbus/connector";
import type { Adapter } from "socket.io-adapter";

// socket.io 4.8.1's Server#adapter(v: AdapterConstructor), with its AdapterConstructor type.
type AdapterConstructor = typeof Adapter | ((nsp: any) => Adapter);
declare function log(...values: unknown[]): void;
declare const io: { adapter(v: AdapterConstructor): unknown; of(nsp: string): { adapter: Adapter } };

const options: AdapterOptions = {
    path: "/run/socketbus/busd.sock",
    requestsTimeout: 5000,
    nodeName: "web-1",
    protocolVersion: 2,
    initialDelayMs: 100,
    maxDelayMs: 5000,
    handshakeTimeoutMs: 5000,
    maxQueuedBroadcasts: 1000,
    maxQueuedBytes: 8 * 1024 * 1024,
    maxWriteBufferBytes: 64 * 1024 * 1024,
    reportAckTimeouts: false,
    customHook: (data, cb) => cb({ echoed: data }),
    logger: { warn: (message) => log(message), debug: () => {} },
};
const Bound: SocketBusAdapterClass = createAdapter(options);
io.adapter(Bound);
io.adapter(createAdapter());
const connected: boolean = Bound.bus.connected;
const version: number = Bound.bus.version;
const stats: AdapterStats = Bound.stats();
const namespaces: string[] = stats.namespaces;
const lost: number = stats.sessionsLost + stats.roomChannelWaitsFailed + stats.pendingAcks;
const welcome: Welcome | null = stats.welcome;

// What socket.io does with the class: one adapter per namespace.
const made = (nsp: unknown) => new Bound(nsp);
const madeV2: boolean = made({}).v2;

const adapter = io.of("/").adapter;
if (adapter instanceof SocketBusAdapter) {
    const inFlight: number = adapter.requests.size + adapter.ackRequests.size;
    const v2: boolean = adapter.v2;
    adapter.allRooms().then((rooms: Set<string | number>) => rooms.size);
    adapter.serverSideEmitWithAck(["ping"]).then((answers: unknown[]) => answers.length);
    adapter.serverCount().then((count: number) => count + inFlight + Number(v2));
}

// A link of one's own, shared by two adapter factories.
const bus = new BusConnection({ path: "/tmp/busd.sock", protocolVersion: 1 });
bus.on("ready", (w) => w.ackTimeoutMs.toFixed()).on("down", (reason) => reason.toUpperCase());
bus.once("frame", (frame: Frame) => frame.type === "DELIVER");
createAdapter({ connection: bus.start() });
const sent: boolean = bus.send({ type: "PING", token: 1n });
bus.close().then(() => bus.state === "closed");

// The codec.
const hello = frames.encodeFrame({ type: "HELLO", version: frames.VERSION, node: "n", pid: 1 });
const decoder = new frames.FrameDecoder();
decoder.push(hello);
const frame: Frame | null = decoder.next();
const kind: 9 = frames.REQUEST_KINDS.ROOMS_SUBSCRIBED;
try {
    frames.decodeBody(hello.subarray(4) as typeof hello);
} catch (error) {
    if (error instanceof frames.ProtocolError && error.code === frames.ERROR_CODES.MALFORMED) log(error.message);
}

// The Emitter, with a node-redis 4 shaped client.
declare const redis: {
    publish(channel: string, message: string | Uint8Array): Promise<number>;
    sendCommand(args: string[]): Promise<unknown>;
    lRange(key: string, start: number, stop: number): Promise<string[]>;
    duplicate(): unknown;
};
const emitter = new Emitter(redis, { key: "socket.io", prefix: "socketbus" });
const chat = emitter.of("/chat");
const plain: true = chat.to("room-1").except(["banned"]).volatile.compress(false).emit("message", { text: "hi" }, 2);
emitter.in(7).socketsJoin(["a", "b"]);
emitter.to("room").socketsLeave("b");
emitter.disconnectSockets(true);
emitter.serverSideEmit("hello", 1, 2);

// Node's AbortSignal, as far as follow() uses it (no @types/node here).
declare const controller: {
    signal: { readonly aborted: boolean; addEventListener(type: string, listener: (event: unknown) => void, options?: { once?: boolean }): void };
};

async function confirmations(): Promise<number> {
    const signal = controller.signal;
    const result: ConfirmationResult = await emitter
        .to("user:42")
        .emitWithConfirmation("notification", { text: "hi" }, { timeout: 5000, id: "job-1" });
    const seen = result.outcomes.filter((o) => o.status === "delivered").map((o) => o.args ?? []);
    const stockAcks = result.stock ? result.stock.acks.length : 0;
    const lookupFailed = result.lookupComplete === false;
    const last: number | null = result.timing.lastOutcomeMs;
    for await (const record of emitter.follow(result.messageId)) {
        if (record.type === "confirmation") log(record.socketId, record.status, record.args);
        else log(record.node, record.sockets.length);
        break;
    }
    const follower = emitter.follow("job-1", { onRecord: (r: DeliveryRecord) => r.messageId, signal });
    await follower.ready;
    const next: DeliveryRecord | null = await follower.next(100);
    await follower.close();
    const stored: DeliveryRecord[] = await emitter.storedRecords("job-1");
    await emitter.close();
    return seen.length + stockAcks + stored.length + Number(lookupFailed) + (last ?? 0) + (next ? 1 : 0);
}

// Misuse the declarations must reject.
// @ts-expect-error a path is a string
createAdapter({ path: 42 });
// @ts-expect-error protocol versions are 1 and 2
createAdapter({ protocolVersion: 3 });
// @ts-expect-error the Emitter needs a Redis client with publish() and duplicate()
new Emitter({});
async function misuse(): Promise<void> {
    // @ts-expect-error emitWithConfirmation resolves to a result, not a boolean
    const wrong: boolean = await emitter.emitWithConfirmation("ev");
    // @ts-expect-error a result's outcomes carry a status, not a state
    log((await emitter.to("x").emitWithConfirmation("e")).outcomes[0].state, wrong);
}
// @ts-expect-error BusConnection has no "welcome" event
bus.on("welcome", () => {});

export { madeV2, connected, version, lost, welcome, namespaces, sent, frame, kind, plain, confirmations, misuse };
