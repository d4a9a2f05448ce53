// ---------------------------------------------------------------------------
// Listeners
// ---------------------------------------------------------------------------

import { globals } from "./transport";

/**
 * Rethrows `error` from a fresh task: it is reported like an exception in
 * any event handler (the console, `window.onerror`, Node's
 * `uncaughtException`) without breaking the client that called the listener.
 */
function reportLater(error: unknown): void {
  globals.setTimeout(() => {
    throw error;
  }, 0);
}

/** Listeners by event name. A listener that throws does not stop the others. */
class Listeners {
  private readonly _byEvent = new Map<string, Set<(payload: unknown) => void>>();

  /** Adds `listener` for `event`. */
  add(event: string, listener: (payload: unknown) => void): void {
    let set = this._byEvent.get(event);
    if (!set) {
      set = new Set();
      this._byEvent.set(event, set);
    }
    set.add(listener);
  }

  /** Removes `listener` from `event`; a listener that is not there is ignored. */
  remove(event: string, listener: (payload: unknown) => void): void {
    const set = this._byEvent.get(event);
    if (set?.delete(listener) && set.size === 0) {
      this._byEvent.delete(event);
    }
  }

  /**
   * Calls every listener of `event` with `payload`, in the order they were
   * added. Listeners added or removed meanwhile take effect from the next call.
   */
  deliver(event: string, payload: unknown): void {
    const set = this._byEvent.get(event);
    if (!set) {
      return;
    }
    for (const listener of Array.from(set)) {
      try {
        listener(payload);
      } catch (error) {
        reportLater(error);
      }
    }
  }
}

export { Listeners, reportLater };
