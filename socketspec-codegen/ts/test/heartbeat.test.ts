// `__ping__` is answered with `__pong__` by the client itself.

import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { connected, nextTask } from "./fake_socket";

describe("heartbeat", () => {
  it("answers every __ping__ with a __pong__ and still tells __ping__ listeners", async () => {
    const { client, socket } = await connected();
    await nextTask();
    let pings = 0;
    client.on("__ping__", () => {
      pings += 1;
    });
    socket.receive({ event: "__ping__", payload: {} });
    socket.receive({ event: "__ping__" });
    assert.deepEqual(socket.sent, [
      '{"event":"__pong__","payload":{}}',
      '{"event":"__pong__","payload":{}}',
    ]);
    assert.equal(pings, 2);
  });

  it("a __ping__ on a socket that is going away is not answered and does not throw", async () => {
    const { socket } = await connected();
    await nextTask();
    socket.readyState = 2;
    socket.receive({ event: "__ping__", payload: {} });
    assert.deepEqual(socket.sent, []);
  });
});
