// ---------------------------------------------------------------------------
// The protocol machinery
// ---------------------------------------------------------------------------

import {
  CLOSE_CODE,
  ConnectPayload,
  Envelope,
  FINAL_CLOSE_CODES,
  QUERY_PARAM,
  RefreshAuthReply,
  SYSTEM_EVENT,
  SystemEvents,
} from "./protocol";
import { SocketspecError, describe, errorFrom } from "./errors";
import { Listeners, reportLater } from "./listeners";
import {
  CLOSE_TIMEOUT_MS,
  ClientOptions,
  ConnectionState,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  RequestOptions,
  StateChange,
  reconnectDelayMs,
} from "./options";
import { PendingRequests } from "./requests";
import {
  OPEN,
  SocketHandlers,
  WebSocketConstructor,
  WebSocketLike,
  decodeEnvelope,
  encodeEnvelope,
  globals,
  withQuery,
} from "./transport";

/**
 * The wire protocol, independent of the spec: connecting, `id` correlation,
 * timeouts, listeners, heartbeats, `__refresh_auth__`, closing, reconnecting
 * and resuming. The generated `Client` extends it with one typed method per
 * event; `Events` maps every event the server sends to its payload.
 */
export class ClientBase<Events extends SystemEvents = SystemEvents> {
  private readonly _url: string;
  private readonly _options: ClientOptions;
  private readonly _WebSocket: WebSocketConstructor;
  private _token: string | undefined;
  private _socket: WebSocketLike | null = null;
  private _state: ConnectionState = "connecting";
  private _connectInfo: ConnectPayload | null = null;
  /**
   * The `resume_token` of the session to resume on the next connection;
   * `null` when there is none, or the session must not be resumed.
   */
  private _resumeToken: string | null = null;
  /** The largest `seq` accepted on this session; 0 before the first one. */
  private _lastSeq = 0;
  private _closing = false;
  private _attempts = 0;
  private _reconnectTimer: unknown = null;
  private _closeWaiters: Array<() => void> = [];
  /** Messages held back until `connect()`'s caller could add listeners. */
  private _held: Envelope[] | null = null;
  private readonly _requests = new PendingRequests();
  private readonly _listeners = new Listeners();
  private readonly _stateListeners = new Set<(change: StateChange) => void>();

  /**
   * A client for `url`, not yet connected (`Client.connect` creates one and
   * opens it).
   *
   * @throws {SocketspecError} `CONNECT_FAILED` when there is no WebSocket
   * implementation.
   */
  protected constructor(url: string, options: ClientOptions) {
    const WebSocketImpl = options.WebSocket ?? globals.WebSocket;
    if (!WebSocketImpl) {
      throw new SocketspecError(
        "CONNECT_FAILED",
        "no WebSocket implementation: pass one as the `WebSocket` option (e.g. the `ws` package's), " +
          "or run Node 20 with --experimental-websocket",
      );
    }
    this._url = url;
    this._options = options;
    this._WebSocket = WebSocketImpl;
    this._token = options.token;
  }

  /** Where the connection stands. */
  get state(): ConnectionState {
    return this._state;
  }

  /** The `__connect__` payload of the current (or last) connection. */
  get connectInfo(): ConnectPayload | null {
    return this._connectInfo;
  }

  /** The server's id for the current (or last) connection. */
  get connectionId(): string | null {
    return this._connectInfo?.connection_id ?? null;
  }

  /**
   * Whether the current (or last) connection resumed the session of a lost
   * one: nothing was missed, pending requests were kept. `false` on a fresh
   * session, which the application re-syncs.
   */
  get resumed(): boolean {
    return this._connectInfo?.resumed === true;
  }

  /**
   * The largest `seq` the client processed on this session (0 before the
   * first, and always when the server has resumption off).
   */
  get lastSeq(): number {
    return this._lastSeq;
  }

  /**
   * Calls `listener` with the payload of every `event` the server sends,
   * except replies and errors that settle a pending request (those go to
   * the request's promise). Returns a function that removes the listener.
   */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    this._listeners.add(String(event), listener as (payload: unknown) => void);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with {@link ClientBase.on}. */
  off<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): void {
    this._listeners.remove(String(event), listener as (payload: unknown) => void);
  }

  /**
   * Resolves with the payload of the next `event`; rejects with `TIMEOUT`
   * after `options.timeoutMs` (default: the request timeout; 0: never).
   */
  once<E extends keyof Events>(event: E, options: RequestOptions = {}): Promise<Events[E]> {
    return new Promise<Events[E]>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this._requestTimeoutMs();
      let timer: unknown = null;
      const remove = this.on(event, (payload) => {
        remove();
        if (timer !== null) {
          globals.clearTimeout(timer);
        }
        resolve(payload);
      });
      if (timeoutMs > 0) {
        timer = globals.setTimeout(() => {
          remove();
          reject(new SocketspecError("TIMEOUT", `no \`${String(event)}\` within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Calls `listener` whenever the {@link ConnectionState} changes. Returns a remover. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this._stateListeners.add(listener);
    return () => {
      this._stateListeners.delete(listener);
    };
  }

  /**
   * Sends any event with a fresh `id`, untyped, and resolves with the first
   * message the server sends with that `id`; rejects with a
   * {@link SocketspecError} on a correlated `__error__`, a timeout or a
   * disconnect. Prefer the typed methods of `Client`.
   */
  request(event: string, payload: unknown = {}, options?: RequestOptions): Promise<Envelope> {
    return this._call(event, payload, null, options);
  }

  /**
   * Sends any event without an `id` (fire and forget), untyped. An error
   * about it reaches the `__error__` listeners.
   *
   * @throws {SocketspecError} `DISCONNECTED` when the connection is not open.
   */
  emit(event: string, payload: unknown = {}): void {
    this._transmit({ event, payload });
  }

  /**
   * Offers a new credential (`__refresh_auth__`) and resolves with its expiry;
   * later reconnects use it. Rejects with `AUTH_ERROR` when the server
   * refuses it (the old credential then stays in force until it expires).
   */
  async refreshAuth(token: string, options?: RequestOptions): Promise<RefreshAuthReply> {
    const event = SYSTEM_EVENT.refreshAuth;
    const reply = await this._call(event, { token }, [event], options);
    this._token = token;
    return reply.payload as RefreshAuthReply;
  }

  /**
   * Closes the connection for good (no reconnect) and rejects pending
   * requests with `DISCONNECTED`. Resolves once the socket has closed.
   * Browsers accept only the codes 1000 and 3000-4999.
   */
  close(code: number = CLOSE_CODE.normal, reason = ""): Promise<void> {
    this._closing = true;
    this._resumeToken = null;
    if (this._reconnectTimer !== null) {
      globals.clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
    }
    this._requests.rejectAll("the client closed the connection");
    const socket = this._socket;
    if (!socket) {
      this._setState({ state: "closed", code, reason });
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const fallback = globals.setTimeout(
        () => this._disconnected(socket, code, reason),
        CLOSE_TIMEOUT_MS,
      );
      this._closeWaiters.push(() => {
        globals.clearTimeout(fallback);
        resolve();
      });
      try {
        socket.close(code, reason);
      } catch {
        this._disconnected(socket, code, reason);
      }
    });
  }

  /** Opens the first connection; `Client.connect` awaits it. */
  protected async _start(): Promise<void> {
    try {
      await this._open();
    } catch (error) {
      this._setState({ state: "closed" });
      throw error;
    }
  }

  /**
   * Sends `event` with a fresh `id` and resolves with the first correlated
   * message among `replies` (any, for `null`); rejects on a correlated
   * `__error__`, on timeout and on disconnect.
   */
  protected _call(
    event: string,
    payload: unknown,
    replies: readonly string[] | null,
    options?: RequestOptions,
  ): Promise<Envelope> {
    const id = this._requests.newId();
    const timeoutMs = options?.timeoutMs ?? this._requestTimeoutMs();
    const reply = this._requests.add(id, event, replies, timeoutMs);
    try {
      this._transmit({ event, payload, id });
    } catch (error) {
      this._requests.fail(
        id,
        error instanceof SocketspecError
          ? error
          : new SocketspecError("DISCONNECTED", describe(error), { event, requestId: id }),
      );
    }
    return reply;
  }

  /** Sends `event` with a fresh `id`; resolves once sent. */
  protected _send(event: string, payload: unknown): Promise<void> {
    try {
      this._transmit({ event, payload, id: this._requests.newId() });
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private _requestTimeoutMs(): number {
    return this._options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private _transmit(envelope: Envelope): void {
    const socket = this._socket;
    if (!socket || this._state !== "open" || socket.readyState !== OPEN) {
      throw new SocketspecError(
        "DISCONNECTED",
        `cannot send \`${envelope.event}\`: the connection is ${this._state}`,
        { event: envelope.event, requestId: envelope.id ?? null },
      );
    }
    socket.send(encodeEnvelope(envelope));
  }

  /**
   * The URL of the next connection attempt, with its credentials and, when
   * a lost session is to be resumed, its token and the last `seq` processed.
   */
  private _connectUrl(): string {
    const resume = this._resumeToken ?? undefined;
    const query: Array<[string, string | undefined]> = [
      [QUERY_PARAM.token, this._token],
      [QUERY_PARAM.apiKey, this._options.apiKey],
      [QUERY_PARAM.resume, resume],
      [QUERY_PARAM.lastSeq, resume === undefined ? undefined : String(this._lastSeq)],
    ];
    let url = this._url;
    for (const [key, value] of query) {
      if (value !== undefined) {
        url = withQuery(url, key, value);
      }
    }
    return url;
  }

  /** One connection attempt: resolves on `__connect__`. */
  private _open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let connected = false;
      let socket: WebSocketLike;
      try {
        socket = new this._WebSocket(this._connectUrl());
      } catch (error) {
        reject(new SocketspecError("CONNECT_FAILED", `cannot open ${this._url}: ${describe(error)}`));
        return;
      }
      const fail = (error: SocketspecError) => {
        if (!settled) {
          settled = true;
          globals.clearTimeout(timer);
          reject(error);
        }
      };
      const connectTimeoutMs = this._options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = globals.setTimeout(() => {
        const why = `no \`${SYSTEM_EVENT.connect}\` from ${this._url} within ${connectTimeoutMs} ms`;
        fail(new SocketspecError("CONNECT_FAILED", why));
        try {
          socket.close();
        } catch {
          // Already closing.
        }
      }, connectTimeoutMs);
      const handlers = socket as unknown as SocketHandlers;
      try {
        handlers.binaryType = "arraybuffer";
      } catch {
        // Not supported: binary frames then stay undecoded and are dropped.
      }
      handlers.onmessage = (event) => {
        const message = decodeEnvelope(event.data);
        if (!message) {
          return;
        }
        if (connected) {
          this._dispatch(message);
        } else if (message.event === SYSTEM_EVENT.connect) {
          connected = true;
          settled = true;
          globals.clearTimeout(timer);
          if (this._closing) {
            socket.close(CLOSE_CODE.normal, "");
            reject(new SocketspecError("DISCONNECTED", "the client was closed while connecting"));
            return;
          }
          this._connected(socket, message.payload as ConnectPayload);
          resolve();
          this._listeners.deliver(SYSTEM_EVENT.connect, message.payload);
          globals.setTimeout(() => this._releaseHeld(), 0);
        } else if (message.event === SYSTEM_EVENT.error) {
          fail(errorFrom(message.payload));
        }
      };
      handlers.onclose = (event) => {
        if (connected) {
          this._disconnected(socket, event.code, event.reason);
        } else {
          const code = event.code === CLOSE_CODE.auth ? "AUTH_ERROR" : "CONNECT_FAILED";
          const reason = event.reason ? `: ${event.reason}` : "";
          const why = `the connection to ${this._url} closed before \`${SYSTEM_EVENT.connect}\``;
          fail(new SocketspecError(code, `${why} (code ${event.code}${reason})`));
        }
      };
      handlers.onerror = () => {
        // A close event follows and reports the failure.
      };
    });
  }

  /**
   * `__connect__` arrived on `socket`: it becomes the open connection. A
   * session the client asked to resume and the server resumed keeps its
   * pending requests and its `seq`; any other starts afresh, and requests
   * still pending from a lost session are rejected (their replies will
   * never come).
   */
  private _connected(socket: WebSocketLike, info: ConnectPayload): void {
    const resumed = this._resumeToken !== null && info.resumed === true;
    if (!resumed) {
      this._lastSeq = 0;
      this._requests.rejectAll("the connection was lost and its session could not be resumed");
    }
    const token = info.resume_token;
    this._resumeToken = typeof token === "string" && token !== "" ? token : null;
    this._socket = socket;
    this._connectInfo = info;
    this._attempts = 0;
    this._setState({ state: "open", resumed });
    // Messages right behind `__connect__` (a warning, a broadcast) wait one
    // task, so code after `await Client.connect(...)` can listen first.
    this._held = [];
  }

  private _releaseHeld(): void {
    const held = this._held ?? [];
    this._held = null;
    for (const message of held) {
      this._route(message);
    }
  }

  /**
   * Takes one message of an open connection. A frame whose `seq` is not
   * above the last one processed was processed before the connection was
   * resumed, and is dropped; any other counts as processed from here on,
   * even while it is held behind `__connect__`.
   */
  private _dispatch(message: Envelope): void {
    const seq = message.seq;
    if (seq !== undefined) {
      if (seq <= this._lastSeq) {
        return;
      }
      this._lastSeq = seq;
    }
    if (message.event === SYSTEM_EVENT.disconnect) {
      // The server ends the session: there will be nothing to resume.
      this._resumeToken = null;
    }
    if (this._held !== null) {
      this._held.push(message);
    } else {
      this._route(message);
    }
  }

  /** Routes one message: a heartbeat, a request's reply, or the listeners'. */
  private _route(message: Envelope): void {
    if (message.event === SYSTEM_EVENT.ping) {
      try {
        this._transmit({ event: SYSTEM_EVENT.pong, payload: {} });
      } catch {
        // The connection is going away; nothing to answer.
      }
    }
    if (!this._requests.claim(message)) {
      this._listeners.deliver(message.event, message.payload);
    }
  }

  private _setState(change: StateChange): void {
    if (this._state === change.state) {
      return;
    }
    this._state = change.state;
    for (const listener of Array.from(this._stateListeners)) {
      try {
        listener(change);
      } catch (error) {
        reportLater(error);
      }
    }
  }

  /** The open connection `socket` closed (or `close()` gave up waiting). */
  private _disconnected(socket: WebSocketLike, code: number, reason: string): void {
    if (this._socket !== socket) {
      return;
    }
    this._socket = null;
    const handlers = socket as unknown as SocketHandlers;
    handlers.onmessage = null;
    handlers.onclose = null;
    const reconnect =
      !this._closing && this._options.reconnect?.enabled === true && !FINAL_CLOSE_CODES.includes(code);
    // Only a connection lost without a closing handshake is resumed: a close
    // frame (from the server or this client) ends the session.
    const resume = reconnect && code === CLOSE_CODE.abnormal && this._resumeToken !== null;
    if (!resume) {
      this._resumeToken = null;
      this._requests.rejectAll(`the connection closed (code ${code}${reason ? `: ${reason}` : ""})`);
    }
    if (reconnect) {
      this._scheduleReconnect({ state: "reconnecting", code, reason });
    } else {
      this._setState({ state: "closed", code, reason });
    }
    const waiters = this._closeWaiters;
    this._closeWaiters = [];
    for (const waiter of waiters) {
      waiter();
    }
  }

  private _scheduleReconnect(change: StateChange): void {
    const options = this._options.reconnect ?? {};
    if (options.maxAttempts !== undefined && this._attempts >= options.maxAttempts) {
      this._giveUp({ ...change, state: "closed" }, "reconnecting gave up");
      return;
    }
    this._setState(change);
    const delay = reconnectDelayMs(options, this._attempts, Math.random());
    this._attempts += 1;
    this._reconnectTimer = globals.setTimeout(() => {
      this._reconnectTimer = null;
      if (this._closing) {
        return;
      }
      this._open().catch((error: unknown) => {
        if (this._closing) {
          return;
        }
        if (error instanceof SocketspecError && error.code === "AUTH_ERROR") {
          this._giveUp({ state: "closed", code: CLOSE_CODE.auth, reason: error.message }, error.message);
          return;
        }
        this._scheduleReconnect({ state: "reconnecting" });
      });
    }, delay);
  }

  /**
   * Reconnecting ends without a connection: requests kept for a resume are
   * rejected (saying `why`) and the client is closed.
   */
  private _giveUp(change: StateChange, why: string): void {
    this._resumeToken = null;
    this._requests.rejectAll(why);
    this._setState(change);
  }
}
