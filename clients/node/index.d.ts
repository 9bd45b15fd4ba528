// Type declarations of @socketbus/connector (index.js): the adapter factory
// and its options, the link to busd, the frame codec and the Emitter.
//
// The adapter types build on socket.io-adapter's `Adapter` (installed with
// socket.io), so that `io.adapter(createAdapter(...))` type-checks against
// socket.io's own declarations. Nothing else here needs another package's
// types, not even Node's (NodeBuffer below is the part of Node's Buffer the
// codec relies on; a Buffer is one).
// test/package.test.js checks these with `tsc --strict`.

import type { Adapter } from "socket.io-adapter";

// ---------------------------------------------------------------------------
// The adapter

/** What a namespace's adapter logs: state changes as warnings, details as debug lines. */
export interface Logger {
    warn(message: string): void;
    debug(message: string): void;
}

/** The options of the link to busd (`new BusConnection(options)`, and `createAdapter(options)`). */
export interface ConnectionOptions {
    /** busd's Unix socket; default `$SOCKETBUS_SOCKET_PATH`, else `/run/socketbus/busd.sock`. */
    path?: string;
    /** The node name in HELLO, for busd's logs; default `<hostname>-<pid>`. */
    nodeName?: string;
    /** Default: `console.warn` for state changes, `NODE_DEBUG=socketbus` for details. */
    logger?: Logger;
    /** The local protocol version HELLO asks for (default 2; 1 forces version 1). */
    protocolVersion?: 1 | 2;
    /** Reconnection back-off in ms (defaults 100 and 5000). */
    initialDelayMs?: number;
    maxDelayMs?: number;
    /** A busd that does not answer HELLO within this many ms is dropped and retried (default 5000). */
    handshakeTimeoutMs?: number;
    /** Bounds of the queue of broadcasts made while busd is away (defaults 1000 and 8 MiB). */
    maxQueuedBroadcasts?: number;
    maxQueuedBytes?: number;
    /** Unsent bytes above which broadcasts are dropped while busd is up (default 64 MiB). */
    maxWriteBufferBytes?: number;
}

/** `createAdapter(options)`: the link's options plus the adapter's own. */
export interface AdapterOptions extends ConnectionOptions {
    /** An existing link to busd to use instead of a new one (the link's options above are then ignored). */
    connection?: BusConnection;
    /** ms a cluster call waits, as @socket.io/redis-adapter's option (default 5000). */
    requestsTimeout?: number;
    /** Answers socket.io-redis 5.x `customRequest`: call `cb` with the answer. */
    customHook?: (data: unknown, cb: (answer: unknown) => void) => void;
    /** Also send ACKED status 2 when an ack id is dropped unanswered (default false). */
    reportAckTimeouts?: boolean;
    /** Ask busd (CLUSTER_REQUEST kind 10) to drop broadcasts no socket of this node can get (default true). */
    registryFilter?: boolean;
}

/** One namespace's adapter: socket.io-adapter's API, cluster-wide through busd. */
export interface SocketBusAdapter extends Adapter {
    /** The link to busd shared by every namespace of this `createAdapter()`. */
    readonly bus: BusConnection;
    /** This namespace's cluster calls in flight: request id → request kind (`frames.REQUEST_KINDS`). */
    readonly requests: Map<number, number>;
    /** Its acked broadcasts whose answers busd still relays, by request id. */
    readonly ackRequests: Map<number, unknown>;
    /** Whether the session with busd speaks protocol version 2 (cluster calls, typed rooms). */
    readonly v2: boolean;
    /** socket.io's `serverSideEmitWithAck`: every other server's answer. */
    serverSideEmitWithAck(packet: unknown[]): Promise<unknown[]>;
    /** Resolves to every room of the cluster. */
    allRooms(): Promise<Set<string | number>>;
}

/**
 * What `createAdapter()` returns: the class socket.io instantiates once per
 * namespace (`io.adapter(...)`), with the shared link and its state.
 */
export type SocketBusAdapterClass = {
    new (nsp: any): SocketBusAdapter;
    readonly prototype: SocketBusAdapter;
    /** The link to busd (`.connected`, `.version`, `.stats()`). */
    readonly bus: BusConnection;
    /** The link's state and counters, with the adapters' own counters. */
    stats(): AdapterStats;
} & typeof Adapter;

/** `io.adapter(createAdapter({ path: "/run/socketbus/busd.sock" }))`. */
export declare function createAdapter(options?: AdapterOptions): SocketBusAdapterClass;

/**
 * The adapter class itself, for `adapter instanceof SocketBusAdapter`; build
 * adapters with `createAdapter()`, which binds them to a link (hence not
 * constructible here).
 */
export declare const SocketBusAdapter: abstract new (...args: never[]) => SocketBusAdapter;

// ---------------------------------------------------------------------------
// The link to busd

/** idle, connecting, handshaking, ready, closing (after a protocol error) or closed. */
export type ConnectionState = "idle" | "connecting" | "handshaking" | "ready" | "closing" | "closed";

/** busd's WELCOME. */
export interface Welcome {
    version: number;
    uid: string;
    nodeId: string;
    ackIdBase: number;
    ackTimeoutMs: number;
}

export interface ConnectionCounters {
    sessions: number;
    connectFailures: number;
    sessionsLost: number;
    framesIn: number;
    framesOut: number;
    /** Writes handed to the socket before the tick's end (joins, for busd's registry filter). */
    flushes: number;
    /** Node events not sent while busd was away (the resync covers them). */
    framesSkipped: number;
    broadcastsSent: number;
    broadcastsQueued: number;
    broadcastsDropped: number;
    errorsReceived: number;
    /** ERROR 6: busd skipped one frame, the session went on. */
    framesRejectedByBusd: number;
    protocolErrors: number;
    handlerErrors: number;
    /** Sessions in an older protocol version than asked for. */
    versionFallbacks: number;
}

export interface ConnectionStats extends ConnectionCounters {
    state: ConnectionState;
    connected: boolean;
    path: string;
    welcome: Welcome | null;
    queuedBroadcasts: number;
    queuedBytes: number;
    lastError: string | null;
}

export interface AdapterStats extends ConnectionStats {
    deliveries: number;
    packetsWritten: number;
    missingSockets: number;
    deliveriesUndecodable: number;
    unknownNamespaces: number;
    unknownApplyOps: number;
    acksRegistered: number;
    acksConfirmed: number;
    acksExpired: number;
    serverSideEmitsReceived: number;
    serverSideEmitsRejected: number;
    serverSideEmitsNotSent: number;
    answersSent: number;
    answersUnsendable: number;
    clusterRequests: number;
    clusterRequestsFailed: number;
    serverCountsMissed: number;
    roomChannelWaits: number;
    roomChannelWaitsFailed: number;
    lateReplies: number;
    pendingAcks: number;
    pendingRequests: number;
    /** The namespaces whose adapters use this link. */
    namespaces: string[];
    /** Whether busd drops broadcasts no socket of this node can get, this session (its reply to kind 10). */
    registryFilter: boolean;
}

/**
 * One Unix-socket connection to busd, shared by the adapters of one
 * `createAdapter()`. An EventEmitter: "ready" after every (re)connect,
 * "frame" for each busd → node command, "down" when a session ends.
 */
export declare class BusConnection {
    constructor(options?: ConnectionOptions);
    readonly options: Required<Omit<ConnectionOptions, "nodeName" | "logger">>;
    readonly nodeName: string;
    readonly logger: Logger;
    readonly state: ConnectionState;
    /** The last WELCOME (null before the first). */
    readonly welcome: Welcome | null;
    readonly lastError: string | null;
    readonly counters: ConnectionCounters;
    /** true while a session with busd is up. */
    readonly connected: boolean;
    /** The session's protocol version (0 without one). */
    readonly version: number;
    stats(): ConnectionStats;
    /** Connects (once; later calls do nothing). */
    start(): this;
    /** Stops for good: flushes what is written, closes, never reconnects. */
    close(): Promise<void>;
    /** Hands what this tick wrote so far to the socket now instead of at the tick's end. */
    flush(): void;
    /** Sends a frame now, or drops it when there is no session (false). */
    send(frame: Frame): boolean;
    /** Sends a broadcast now or queues it until the next session; throws RangeError when it cannot be framed. */
    sendBroadcast(frame: Frame): boolean;

    on(event: "ready", listener: (welcome: Welcome) => void): this;
    on(event: "frame", listener: (frame: Frame) => void): this;
    on(event: "down", listener: (reason: string) => void): this;
    once(event: "ready", listener: (welcome: Welcome) => void): this;
    once(event: "frame", listener: (frame: Frame) => void): this;
    once(event: "down", listener: (reason: string) => void): this;
    off(event: "ready" | "frame" | "down", listener: (...args: any[]) => void): this;
    removeListener(event: "ready" | "frame" | "down", listener: (...args: any[]) => void): this;
}

// ---------------------------------------------------------------------------
// The frame codec (docs/local-protocol.md, docs/local-protocol-v2.md)

export type FrameType =
    | "HELLO" | "WELCOME" | "ERROR" | "PING" | "PONG"
    | "SOCKET_CONNECT" | "SOCKET_DISCONNECT" | "SOCKET_JOIN" | "SOCKET_LEAVE" | "BROADCAST"
    | "DELIVER" | "ACKED" | "SOCKETS_JOIN" | "SOCKETS_LEAVE" | "SOCKETS_DISCONNECT" | "SERVER_SIDE_EMIT"
    | "NAMESPACE" | "ROOMS_JOIN" | "ROOMS_LEAVE" | "ROOMS_BROADCAST" | "DELIVERED" | "ANSWER"
    | "CLUSTER_REQUEST" | "BROADCAST_WITH_ACK" | "DELIVER_TO_ROOMS" | "APPLY" | "QUESTION"
    | "CLUSTER_REPLY" | "ACK_COUNT" | "ACK_ARGUMENT";

/** A frame: its type and the fields of its layout, by name (the protocol documents list them). */
export interface Frame {
    type: FrameType;
    [field: string]: unknown;
}

/** Node's Buffer, as far as the codec relies on it (declared here so that these types need no @types/node). */
export interface NodeBuffer extends Uint8Array {
    readUInt32BE(offset?: number): number;
    toString(encoding?: string, start?: number, end?: number): string;
}

/** A frame that breaks the protocol; `code` is the ERROR frame's code (`frames.ERROR_CODES`). */
export declare class ProtocolError extends Error {
    constructor(code: number, message: string);
    readonly code: number;
}

/** Cuts a byte stream into frames: `push` each read, then `next()` until it returns null. */
export declare class FrameDecoder {
    constructor();
    push(chunk: NodeBuffer): void;
    /** The next frame, or null when more bytes are needed; throws ProtocolError. */
    next(): Frame | null;
}

export interface FrameCodec {
    /** The protocol version this connector asks for, and those it speaks. */
    readonly VERSION: 2;
    readonly VERSIONS: readonly number[];
    /** The largest frame body (16 MiB). */
    readonly MAX_LENGTH: number;
    readonly TYPES: Readonly<Record<FrameType, number>>;
    readonly V2_TYPES: ReadonlySet<FrameType>;
    readonly REQUEST_KINDS: Readonly<{
        SERVER_COUNT: 1; FETCH_SOCKETS: 2; ALL_ROOMS: 3; ADD_SOCKETS: 4; DEL_SOCKETS: 5;
        DISCONNECT_SOCKETS: 6; SERVER_SIDE_EMIT: 7; SERVER_SIDE_EMIT_WITH_ACK: 8; ROOMS_SUBSCRIBED: 9;
    }>;
    readonly REPLY_STATUS: Readonly<{ COMPLETE: 0; TIMED_OUT: 1; FAILED: 2 }>;
    readonly QUESTION_KINDS: Readonly<{ FETCH: 1; SERVER_SIDE_EMIT: 2; CUSTOM: 3 }>;
    readonly ANSWER_STATUS: Readonly<{ ANSWERED: 0; CANNOT_ANSWER: 1 }>;
    readonly APPLY_OPS: Readonly<{ JOIN: 1; LEAVE: 2; DISCONNECT: 3 }>;
    readonly ERROR_CODES: Readonly<{
        MALFORMED: 1; UNSUPPORTED_VERSION: 2; UNEXPECTED: 3; TOO_LARGE: 4; SHUTTING_DOWN: 5;
        UNUSABLE_CONTENT: 6; TOO_MANY_CONNECTIONS: 7; HANDSHAKE_TIMEOUT: 8;
    }>;
    readonly ACK_STATUS: Readonly<{ DELIVERED: 1; TIMEOUT: 2; DISCONNECTED: 3 }>;
    readonly ProtocolError: typeof ProtocolError;
    readonly FrameDecoder: typeof FrameDecoder;
    /** A frame with its 4-byte length prefix; throws RangeError when it cannot be framed. */
    encodeFrame(frame: Frame): NodeBuffer;
    /** One frame body (type byte and fields, without the length prefix); throws ProtocolError. */
    decodeBody(body: NodeBuffer): Frame;
    /** A ROOMS_BROADCAST as version 1's BROADCAST (rooms as names). */
    toV1Broadcast(frame: Frame): Frame;
    flagsToByte(flags?: { volatile?: boolean; compress?: boolean | null }): number;
    flagsFromByte(byte: number): { volatile: boolean; compress: boolean | undefined };
}

export declare const frames: FrameCodec;

// ---------------------------------------------------------------------------
// The Emitter

/**
 * The application's Redis client, connected: node-redis 4 (`publish`,
 * `sendCommand`, `duplicate()`, `subscribe(channel, listener, true)`) or
 * ioredis (`publish`, `call`, `duplicate()`, "messageBuffer" events).
 */
export interface EmitterRedisClient {
    publish(channel: any, message: any): unknown;
    duplicate(...args: any[]): any;
}

export interface EmitterOptions {
    /** The adapter's channel prefix (default "socket.io"). */
    key?: string;
    /** busd's `--prefix` (default "socketbus"). */
    prefix?: string;
}

/** The last argument of `emitWithConfirmation` when it is a plain object with no other keys. */
export interface ConfirmationOptions {
    /** ms to wait, at least 10 (default 10000). */
    timeout?: number;
    /** The message id (a non-empty string); default `emitter-<16 hex digits>`. */
    id?: string;
}

export type ConfirmationStatus = "delivered" | "timeout" | "disconnected";

/** A node's record that it dispatched a message to these sockets. */
export interface DispatchedRecord {
    type: "dispatched";
    messageId: string;
    node: string;
    sockets: string[];
    namespace?: string;
    ackId?: number;
    timeoutMs?: number;
    time?: number;
}

/** A socket's outcome for a message. */
export interface ConfirmationRecord {
    type: "confirmation";
    messageId: string;
    socketId: string;
    status: ConfirmationStatus;
    node?: string;
    namespace?: string;
    ackId?: number;
    time?: number;
    latencyMs?: number;
    /** The client's ack arguments (delivered); null for timeout and disconnected. */
    args?: unknown[] | null;
}

export type DeliveryRecord = DispatchedRecord | ConfirmationRecord;

/** The first outcome of one socket. */
export interface SocketOutcome {
    socketId: string;
    status: ConfirmationStatus;
    node: string | undefined;
    latencyMs: number | undefined;
    /** The client's ack arguments, when it acked. */
    args?: unknown[];
}

/** What servers without busd (stock redis-adapter nodes) reported: client counts and ack arguments, without socket ids. */
export interface StockSummary {
    requestId: string;
    sockets: string[];
    servers: number;
    serversAnswered: number;
    clients: number;
    acks: unknown[];
    complete: boolean;
}

export interface ConfirmationResult {
    messageId: string;
    /** PUBLISH's count (0: nobody listens on the namespace). */
    receivers: number;
    /** Sockets known to be targeted (the registry and the nodes' dispatched records). */
    expected: number;
    delivered: number;
    /** The first outcome per socket, in the order the sockets became known. */
    outcomes: SocketOutcome[];
    /** Expected sockets with no outcome by the deadline. */
    unanswered: string[];
    /** Every expected socket settled (and, for rooms, the nodes went quiet). */
    complete: boolean;
    nodes: string[];
    /** ms from PUBLISH to the last outcome (null: none), and to resolving. */
    timing: { lastOutcomeMs: number | null; resolvedMs: number };
    /** Only when some targets are on servers without busd. */
    stock?: StockSummary;
    /** false when some server did not answer the socket id lookup in time. */
    lookupComplete?: false;
}

/** An AbortSignal (Node's or the DOM's). */
export interface AbortSignalLike {
    readonly aborted: boolean;
    addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
}

export interface FollowOptions {
    /** Called per record instead of queueing it for the iterator. */
    onRecord?: (record: DeliveryRecord) => void;
    /** Closes the subscription when aborted. */
    signal?: AbortSignalLike;
}

/** A live subscription to a message id's records. */
export interface RecordFollower extends AsyncIterable<DeliveryRecord> {
    /** Settles once Redis confirmed the subscription (rejects if it failed). */
    readonly ready: Promise<void>;
    /** The next record, or null after `ms` without one (or once closed). */
    next(ms: number): Promise<DeliveryRecord | null>;
    /** Unsubscribes. */
    close(): Promise<void>;
}

/** A chain of targets and flags; each call returns a new operator. */
export interface BroadcastOperator {
    to(room: string | number | Array<string | number>): BroadcastOperator;
    in(room: string | number | Array<string | number>): BroadcastOperator;
    except(room: string | number | Array<string | number>): BroadcastOperator;
    compress(compress: boolean): BroadcastOperator;
    readonly volatile: BroadcastOperator;
    /** Publishes as @socket.io/redis-emitter does (in the background); throws for a reserved event name. */
    emit(ev: string, ...args: unknown[]): true;
    /**
     * Publishes asking socketbus for confirmations and resolves once every
     * target settled or `timeout` passed. The last argument is taken as the
     * ConfirmationOptions when it is a plain object with no keys but
     * `timeout` and `id` (pass `{}` after such an object to send it as data).
     */
    emitWithConfirmation(ev: string, ...args: unknown[]): Promise<ConfirmationResult>;
    socketsJoin(rooms: string | number | Array<string | number>): void;
    socketsLeave(rooms: string | number | Array<string | number>): void;
    disconnectSockets(close?: boolean): void;
}

/** An emitter in the spirit of @socket.io/redis-emitter 5.1, with delivery confirmations. */
export declare class Emitter {
    constructor(redisClient: EmitterRedisClient, opts?: EmitterOptions, nsp?: string);
    readonly nsp: string;
    readonly opts: Required<EmitterOptions>;
    /** The same emitter on another namespace ("/" is added in front when missing). */
    of(nsp: string): Emitter;
    to(room: string | number | Array<string | number>): BroadcastOperator;
    in(room: string | number | Array<string | number>): BroadcastOperator;
    except(room: string | number | Array<string | number>): BroadcastOperator;
    compress(compress: boolean): BroadcastOperator;
    readonly volatile: BroadcastOperator;
    emit(ev: string, ...args: unknown[]): true;
    emitWithConfirmation(ev: string, ...args: unknown[]): Promise<ConfirmationResult>;
    socketsJoin(rooms: string | number | Array<string | number>): void;
    socketsLeave(rooms: string | number | Array<string | number>): void;
    disconnectSockets(close?: boolean): void;
    /** A SERVER_SIDE_EMIT request; throws when the last argument is a function (no acks). */
    serverSideEmit(ev: string, ...args: unknown[]): void;
    /** Every record of a message id as it is published. */
    follow(messageId: string, options?: FollowOptions): RecordFollower;
    /** The records stored for a message id (`LRANGE <prefix>:acks:<id> 0 -1`). */
    storedRecords(messageId: string): Promise<DeliveryRecord[]>;
    /** Closes the emitter's subscriber connection (the application's client stays open). */
    close(): Promise<void>;
}
