// ---------------------------------------------------------------------------
// Options and connection state
// ---------------------------------------------------------------------------

import { WebSocketConstructor } from "./transport";

/** When and how to reconnect after the connection drops. */
export interface ReconnectOptions {
  /** Reconnect at all (default: false). */
  enabled?: boolean;
  /** The first delay, doubled after each failed attempt (default: 500 ms). */
  initialDelayMs?: number;
  /** The longest delay between attempts (default: 10000 ms). */
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

/** Options of {@link Client.connect}. */
export interface ClientOptions {
  /** A JWT, sent as `?token=`. `refreshAuth` replaces it for reconnects. */
  token?: string;
  /** An API key, sent as `?api_key=`. */
  apiKey?: string;
  /** How long a request waits for its reply (default: 10000 ms; 0: forever). */
  requestTimeoutMs?: number;
  /** How long opening a connection may take, up to `__connect__` (default: 10000 ms). */
  connectTimeoutMs?: number;
  /**
   * Reconnect with exponential backoff when the connection drops (not after
   * `close()`, nor after a close code in {@link FINAL_CLOSE_CODES}: an auth
   * failure or the idle timeout).
   *
   * When the server has resumption on and the connection was lost without a
   * closing handshake (close code 1006), the client resumes the session:
   * requests pending at the drop stay pending, the frames the server sent
   * meanwhile arrive once each and in order, and the new connection reports
   * `resumed: true` ({@link StateChange.resumed}). Otherwise, and whenever the
   * server answers with a fresh session, pending requests are rejected with
   * `DISCONNECTED` and rooms are not rejoined by themselves: do it, and
   * re-sync what the application shows, when `resumed` is false.
   */
  reconnect?: ReconnectOptions;
  /** The WebSocket constructor (default: `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
}

/** Options of one request. */
export interface RequestOptions {
  /** Overrides {@link ClientOptions.requestTimeoutMs} (0: wait forever). */
  timeoutMs?: number;
}

/** Where the client's connection stands. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** A change of {@link ConnectionState}, with the close that caused it. */
export interface StateChange {
  /** The new state. */
  state: ConnectionState;
  /** The WebSocket close code, when a close caused the change. */
  code?: number;
  /** The close reason, when a close caused the change. */
  reason?: string;
  /**
   * On `open`: whether the connection resumed the session of the one that
   * was lost, nothing missed and pending requests kept (`true`), or is a
   * fresh session (`false`: re-sync, rejoin rooms).
   */
  resumed?: boolean;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10000;
const DEFAULT_INITIAL_DELAY_MS = 500;
const DEFAULT_MAX_DELAY_MS = 10000;
/** How long `close()` waits for the closing handshake before it gives up. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * The delay before reconnect attempt `attempt` (0 for the first): the initial
 * delay doubled per earlier attempt, capped at the maximum, then scaled to
 * 75-100 % by `random` (from 0 up to 1, like `Math.random()`), so that many
 * clients dropped at once do not reconnect in step.
 */
function reconnectDelayMs(options: ReconnectOptions, attempt: number, random: number): number {
  const initial = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const base = Math.min(max, initial * 2 ** attempt);
  return base * (0.75 + random * 0.25);
}

export {
  CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  reconnectDelayMs,
};
