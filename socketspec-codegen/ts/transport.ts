// ---------------------------------------------------------------------------
// The socket and the wire format
// ---------------------------------------------------------------------------

import { Envelope } from "./protocol";

/**
 * The part of a WebSocket the client uses. The browser's `WebSocket`, Node's
 * global one and the `ws` package's all fit.
 */
export interface WebSocketLike {
  /** 1 while open. */
  readonly readyState: number;
  /** Sends one text frame. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor, such as `globalThis.WebSocket` or `ws`'s. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The globals the client uses, typed here so it needs no DOM or Node types. */
interface Globals {
  WebSocket?: WebSocketConstructor;
  TextDecoder?: new () => { decode(input: ArrayBuffer | ArrayBufferView): string };
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The global object, read at each use rather than copied, so that a test's
 * fake timers or a polyfill installed later are the ones used.
 */
const globals = globalThis as unknown as Globals;

/** The event-handler properties the client sets on its socket. */
interface SocketHandlers {
  binaryType?: string;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** `WebSocket.OPEN`: the only `readyState` in which the client sends. */
const OPEN = 1;

/**
 * Parses one frame into an envelope; `null` for anything else (binary data
 * that cannot be decoded, text that is not JSON, JSON that is not an object
 * with a string `event`). A missing or `null` payload reads as `{}`; an `id`
 * that is not a string is dropped, and so is a `seq` that is not a positive
 * integer.
 */
function decodeEnvelope(data: unknown): Envelope | null {
  let text: string;
  if (typeof data === "string") {
    text = data;
  } else if (globals.TextDecoder && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
    text = new globals.TextDecoder().decode(data);
  } else {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return null;
  }
  // Typed by the envelope's field names, so tsc checks every key below.
  const fields = value as { readonly [K in keyof Envelope]?: unknown };
  const event = fields.event;
  if (typeof event !== "string") {
    return null;
  }
  const envelope: Envelope = { event, payload: fields.payload ?? {} };
  if (typeof fields.id === "string") {
    envelope.id = fields.id;
  }
  const seq = fields.seq;
  if (typeof seq === "number" && Number.isSafeInteger(seq) && seq > 0) {
    envelope.seq = seq;
  }
  return envelope;
}

/** One envelope as the text of a frame; no `id` key when it has none. */
function encodeEnvelope(envelope: Envelope): string {
  const payload = envelope.payload ?? {};
  const message: Envelope =
    envelope.id === undefined
      ? { event: envelope.event, payload }
      : { event: envelope.event, payload, id: envelope.id };
  return JSON.stringify(message);
}

/**
 * `url` with `key=value` in its query string (before any `#fragment`): the
 * other parameters are kept in their order, one of the same name is
 * replaced, `value` is percent-encoded.
 */
function withQuery(url: string, key: string, value: string): string {
  const hash = url.indexOf("#");
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? "" : url.slice(hash);
  const question = base.indexOf("?");
  const path = question < 0 ? base : base.slice(0, question);
  const query = question < 0 ? "" : base.slice(question + 1);
  const kept = query.split("&").filter((part) => part !== "" && queryName(part) !== key);
  kept.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  return `${path}?${kept.join("&")}${fragment}`;
}

/** The decoded name of one `name=value` part of a query string. */
function queryName(part: string): string {
  const equals = part.indexOf("=");
  const name = (equals < 0 ? part : part.slice(0, equals)).replace(/\+/g, " ");
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

export { OPEN, SocketHandlers, decodeEnvelope, encodeEnvelope, globals, withQuery };
