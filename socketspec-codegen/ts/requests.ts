// ---------------------------------------------------------------------------
// Requests waiting for their replies
// ---------------------------------------------------------------------------

import { Envelope, SYSTEM_EVENT } from "./protocol";
import { SocketspecError, errorFrom } from "./errors";
import { globals } from "./transport";

/** A request waiting for its reply. */
interface PendingRequest {
  readonly event: string;
  /** The reply events that settle it; `null`: any reply. */
  readonly replies: readonly string[] | null;
  readonly resolve: (reply: Envelope) => void;
  readonly reject: (error: SocketspecError) => void;
  readonly timer: unknown;
}

/**
 * The requests of one client that wait for a reply, by `id`: the server
 * echoes a request's `id` on its reply and on an `__error__` about it.
 */
class PendingRequests {
  private readonly _byId = new Map<string, PendingRequest>();
  /** Random per client, so that ids stay apart in the server's logs. */
  private readonly _idPrefix = `ts-${Math.random().toString(36).slice(2, 10)}-`;
  private _nextId = 0;

  /** A fresh request id. */
  newId(): string {
    this._nextId += 1;
    return `${this._idPrefix}${this._nextId}`;
  }

  /**
   * Waits for the reply to request `id` (about `event`): one of `replies`
   * (any event, for `null`) carrying that `id`. Rejects with `TIMEOUT` after
   * `timeoutMs` (never, for 0).
   */
  add(id: string, event: string, replies: readonly string[] | null, timeoutMs: number): Promise<Envelope> {
    return new Promise<Envelope>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? globals.setTimeout(() => {
              this._byId.delete(id);
              reject(
                new SocketspecError("TIMEOUT", `no reply to \`${event}\` within ${timeoutMs} ms`, {
                  event,
                  requestId: id,
                }),
              );
            }, timeoutMs)
          : null;
      this._byId.set(id, { event, replies, resolve, reject, timer });
    });
  }

  /** Rejects request `id` with `error` (when it could not be sent). */
  fail(id: string, error: SocketspecError): void {
    this._take(id)?.reject(error);
  }

  /**
   * Settles the request `message` answers, if any: an `__error__` with its
   * `id` rejects it, one of its reply events with its `id` resolves it.
   * Returns whether `message` settled a request; any other message is for
   * the listeners.
   */
  claim(message: Envelope): boolean {
    const id = message.id;
    const pending = id === undefined ? undefined : this._byId.get(id);
    if (id === undefined || pending === undefined) {
      return false;
    }
    if (message.event === SYSTEM_EVENT.error) {
      this._take(id);
      pending.reject(errorFrom(message.payload));
      return true;
    }
    if (pending.replies === null || pending.replies.includes(message.event)) {
      this._take(id);
      pending.resolve(message);
      return true;
    }
    return false;
  }

  /** Rejects every pending request with `DISCONNECTED`, saying `why`. */
  rejectAll(why: string): void {
    for (const id of Array.from(this._byId.keys())) {
      const pending = this._take(id);
      pending?.reject(
        new SocketspecError("DISCONNECTED", `\`${pending.event}\` got no reply: ${why}`, {
          event: pending.event,
          requestId: id,
        }),
      );
    }
  }

  /** Removes request `id` and stops its timer. */
  private _take(id: string): PendingRequest | undefined {
    const pending = this._byId.get(id);
    if (pending) {
      this._byId.delete(id);
      if (pending.timer !== null) {
        globals.clearTimeout(pending.timer);
      }
    }
    return pending;
  }
}

export { PendingRequests };
