// A fake WebSocket for the runtime's unit tests: it records what the client
// sends and lets a test play the server (deliver frames, close).

import { ClientBase } from "../client_base";
import { ClientOptions } from "../options";
import { Envelope, SystemEvents } from "../protocol";
import { WebSocketConstructor, WebSocketLike } from "../transport";

/** One socket the client opened. */
export class FakeSocket implements WebSocketLike {
  readyState = 1;
  binaryType = "blob";
  /** Frames the client sent, as text. */
  readonly sent: string[] = [];
  /** Whether the server completes a closing handshake the client starts. */
  answersClose = true;
  /** The arguments of the client's `close`, once it called it. */
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) {
      throw new Error("the fake socket is not open");
    }
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
    if (this.answersClose) {
      // A real socket reports the close once the handshake is done, later.
      queueMicrotask(() => this.drop(code ?? 1005, reason ?? ""));
    }
  }

  /** The frames the client sent, parsed. */
  sentEnvelopes(): Array<Record<string, unknown>> {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }

  /** Delivers one frame: a string as it is, anything else as JSON. */
  receive(frame: unknown): void {
    const data = typeof frame === "string" ? frame : JSON.stringify(frame);
    this.receiveData(data);
  }

  /** Delivers raw frame data (text or binary). */
  receiveData(data: unknown): void {
    if (!this.onmessage) {
      throw new Error("the client does not listen to this socket");
    }
    this.onmessage({ data });
  }

  /**
   * Sends `__connect__`, as a server does once the upgrade succeeded;
   * `extra` adds fields to its payload (`resume_token`, `resumed`).
   */
  acceptConnection(connectionId = "conn-1", extra: Record<string, unknown> = {}): void {
    this.receive({
      event: "__connect__",
      payload: {
        connection_id: connectionId,
        heartbeat_interval: 25,
        heartbeat_timeout: 60,
        idle_timeout: 0,
        max_duration: 0,
        max_payload_size: 65536,
        ...extra,
      },
    });
  }

  /** The query parameters of the URL this socket was opened with. */
  get query(): Record<string, string> {
    return Object.fromEntries(new globalThis.URL(this.url).searchParams);
  }

  /** The connection ends with `code` (the server closed it, or it broke). */
  drop(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** Every socket one client opened, in order. */
export class FakeNetwork {
  readonly sockets: FakeSocket[] = [];
  readonly WebSocket: WebSocketConstructor;

  constructor() {
    const sockets = this.sockets;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    };
  }

  /** The socket opened last. */
  get last(): FakeSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) {
      throw new Error("the client opened no socket");
    }
    return socket;
  }
}

/** The events of the test client: the system events and one of its own. */
export interface TestEvents extends SystemEvents {
  greeting: { text: string };
  reply_a: { n: number };
  reply_b: { n: number };
}

/** A client as the generator writes one, with the protected calls opened up. */
export class TestClient extends ClientBase<TestEvents> {
  static async connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const client = new TestClient(url, options);
    await client._start();
    return client;
  }

  /** A typed request: resolves with one of `replies`. */
  call(event: string, payload: unknown, replies: readonly string[], timeoutMs?: number): Promise<Envelope> {
    return this._call(event, payload, replies, timeoutMs === undefined ? {} : { timeoutMs });
  }

  /** A request without a declared reply: resolves once sent. */
  send(event: string, payload: unknown): Promise<void> {
    return this._send(event, payload);
  }
}

/** The URL every test connects to. */
export const URL = "ws://example.test/ws";

/**
 * A client connected over a fake socket. Messages right behind `__connect__`
 * are held for one task: tests running on fake timers release them with
 * `tick(0)`, the others wait with {@link nextTask}.
 */
export async function connected(
  options: ClientOptions = {},
): Promise<{ client: TestClient; network: FakeNetwork; socket: FakeSocket }> {
  const network = new FakeNetwork();
  const connecting = TestClient.connect(URL, { ...options, WebSocket: network.WebSocket });
  const socket = network.last;
  socket.acceptConnection();
  const client = await connecting;
  return { client, network, socket };
}

/** Resolves after the tasks queued so far have run (real timers only). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/** Lets pending promise callbacks run (works with fake timers too). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The rejection of `promise`, which must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("the promise resolved");
}
