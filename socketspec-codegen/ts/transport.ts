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
 * that is not a string is dropped.
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
  const payload = fields.payload ?? {};
  const id = fields.id;
  return typeof id === "string" ? { event, payload, id } : { event, payload };
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

/** `url` with `key=value` added to its query string (before any `#fragment`). */
function withQuery(url: string, key: string, value: string): string {
  const hash = url.indexOf("#");
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? "" : url.slice(hash);
  const separator = base.includes("?") ? "&" : "?";
  return `${base}${separator}${key}=${encodeURIComponent(value)}${fragment}`;
}

export { OPEN, SocketHandlers, decodeEnvelope, encodeEnvelope, globals, withQuery };
