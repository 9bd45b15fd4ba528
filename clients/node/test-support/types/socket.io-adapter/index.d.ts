// The public surface of socket.io-adapter 2.5.5's `Adapter` declaration, for
// test/package.test.js only: the stock packages in ../shared/stock-socketio
// were transpiled without declarations and @types/node is not installed
// here, so the type check needs this much of them. It keeps what decides
// whether socket.io accepts an adapter class: `Adapter` has private members
// (so only a type built on it is assignable) and inherits EventEmitter's
// static side (so `typeof Adapter` asks for it).

declare class EventEmitterStatics {
    static defaultMaxListeners: number;
    static listenerCount(emitter: EventEmitterStatics, event: string | symbol): number;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    emit(event: string | symbol, ...args: any[]): boolean;
}

export type SocketId = string;
export type PrivateSessionId = string;
export type Room = string;

export interface BroadcastFlags {
    volatile?: boolean;
    compress?: boolean;
    local?: boolean;
    broadcast?: boolean;
    binary?: boolean;
    timeout?: number;
}

export interface BroadcastOptions {
    rooms: Set<Room>;
    except?: Set<Room>;
    flags?: BroadcastFlags;
}

interface SessionToPersist {
    sid: SocketId;
    pid: PrivateSessionId;
    rooms: Room[];
    data: unknown;
}

export type Session = SessionToPersist & { missedPackets: unknown[][] };

export declare class Adapter extends EventEmitterStatics {
    readonly nsp: any;
    rooms: Map<Room, Set<SocketId>>;
    sids: Map<SocketId, Set<Room>>;
    private readonly encoder;
    constructor(nsp: any);
    init(): Promise<void> | void;
    close(): Promise<void> | void;
    serverCount(): Promise<number>;
    addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void;
    del(id: SocketId, room: Room): Promise<void> | void;
    private _del;
    delAll(id: SocketId): void;
    broadcast(packet: any, opts: BroadcastOptions): void;
    broadcastWithAck(
        packet: any,
        opts: BroadcastOptions,
        clientCountCallback: (clientCount: number) => void,
        ack: (...args: any[]) => void,
    ): void;
    private _encode;
    sockets(rooms: Set<Room>): Promise<Set<SocketId>>;
    socketRooms(id: SocketId): Set<Room> | undefined;
    fetchSockets(opts: BroadcastOptions): Promise<any[]>;
    addSockets(opts: BroadcastOptions, rooms: Room[]): void;
    delSockets(opts: BroadcastOptions, rooms: Room[]): void;
    disconnectSockets(opts: BroadcastOptions, close: boolean): void;
    private apply;
    private computeExceptSids;
    serverSideEmit(packet: any[]): void;
    persistSession(session: SessionToPersist): void;
    restoreSession(pid: PrivateSessionId, offset: string): Promise<Session>;
}
