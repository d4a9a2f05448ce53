// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

import { ERROR_CODES, ErrorCode, ErrorPayload } from "./protocol";

/**
 * Failures the client detects itself; no server sends these codes.
 * - `TIMEOUT`: no reply within the request timeout.
 * - `DISCONNECTED`: the connection is not open, or closed before the reply came.
 * - `CONNECT_FAILED`: the connection could not be opened.
 */
export type ClientErrorCode = "TIMEOUT" | "DISCONNECTED" | "CONNECT_FAILED";

/** The optional parts of a {@link SocketspecError}. */
export interface SocketspecErrorInit {
  /** The event that caused it. */
  event?: string | null;
  /** The request's `id`. */
  requestId?: string | null;
  /** The envelope's `details`. */
  details?: Record<string, unknown>;
}

/**
 * Why a request failed: the `__error__` the server sent about it, or a
 * failure the client detected (`TIMEOUT`, `DISCONNECTED`, `CONNECT_FAILED`).
 */
export class SocketspecError extends Error {
  /** The server's error code, or a {@link ClientErrorCode}. */
  readonly code: ErrorCode | ClientErrorCode;
  /** The event that caused it, or `null`. */
  readonly event: string | null;
  /** The request's `id` (the server's `request_id`), or `null`. */
  readonly requestId: string | null;
  /** The envelope's `details`; empty for failures the client detected. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode | ClientErrorCode, message: string, init: SocketspecErrorInit = {}) {
    super(message);
    // Keeps `instanceof SocketspecError` working when compiled to ES5.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "SocketspecError";
    this.code = code;
    this.event = init.event ?? null;
    this.requestId = init.requestId ?? null;
    this.details = init.details ?? {};
  }

  /** The error an `__error__` payload describes. */
  static fromPayload(payload: ErrorPayload): SocketspecError {
    return new SocketspecError(payload.code, `${payload.code}: ${payload.message}`, {
      event: payload.event,
      requestId: payload.request_id,
      details: payload.details,
    });
  }

  /** Whether the server reported this error (rather than the client). */
  get fromServer(): boolean {
    return (ERROR_CODES as readonly string[]).includes(this.code);
  }
}

/**
 * The error an `__error__` payload describes, tolerating a malformed one: a
 * missing or non-string `code` reads as `HANDLER_ERROR`, a code this client
 * does not know is kept as it came.
 */
function errorFrom(payload: unknown): SocketspecError {
  // Typed by the error envelope's field names, so tsc checks every key below.
  const fields = (typeof payload === "object" && payload !== null ? payload : {}) as {
    readonly [K in keyof ErrorPayload]?: unknown;
  };
  const details = fields.details;
  return SocketspecError.fromPayload({
    code: typeof fields.code === "string" ? (fields.code as ErrorCode) : "HANDLER_ERROR",
    event: typeof fields.event === "string" ? fields.event : null,
    message: typeof fields.message === "string" ? fields.message : "(no message)",
    request_id: typeof fields.request_id === "string" ? fields.request_id : "",
    details:
      typeof details === "object" && details !== null && !Array.isArray(details)
        ? (details as Record<string, unknown>)
        : {},
  });
}

/** A thrown value as text, for error messages. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export { describe, errorFrom };
