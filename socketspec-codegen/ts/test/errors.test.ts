// `__error__` frames and the failures the client detects, as SocketspecError.

import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { SocketspecError, errorFrom } from "../errors";
import { FakeNetwork, TestClient, URL, connected, nextTask, rejection } from "./fake_socket";

describe("errors", () => {
  it("an __error__ with a request's id rejects it with the server's code and details", async () => {
    const { client, socket } = await connected();
    const reply = client.call("send_message", { text: "" }, ["message_ack"]);
    const id = socket.sentEnvelopes()[0]?.["id"];
    socket.receive({
      event: "__error__",
      payload: {
        code: "VALIDATION_ERROR",
        event: "send_message",
        message: "text is too short",
        request_id: id,
        details: { errors: [{ path: "/text", message: "too short" }] },
      },
      id,
    });
    const error = await rejection(reply);
    assert.ok(error instanceof SocketspecError);
    assert.equal(error.code, "VALIDATION_ERROR");
    assert.equal(error.message, "VALIDATION_ERROR: text is too short");
    assert.equal(error.event, "send_message");
    assert.equal(error.requestId, id);
    assert.deepEqual(error.details, { errors: [{ path: "/text", message: "too short" }] });
    assert.equal(error.fromServer, true);
    assert.equal(error.name, "SocketspecError");
  });

  it("an __error__ without a pending request reaches the __error__ listeners", async () => {
    const { client, socket } = await connected();
    await nextTask();
    const errors: string[] = [];
    client.on("__error__", (payload) => errors.push(`${payload.code} ${payload.request_id}`));
    socket.receive({
      event: "__error__",
      payload: { code: "HANDLER_ERROR", event: "fail", message: "boom", request_id: "r-1", details: {} },
    });
    assert.deepEqual(errors, ["HANDLER_ERROR r-1"]);
  });

  it("a malformed error payload still gives a SocketspecError", () => {
    const error = errorFrom({ code: 7, details: ["not", "an", "object"] });
    assert.equal(error.code, "HANDLER_ERROR");
    assert.equal(error.message, "HANDLER_ERROR: (no message)");
    assert.deepEqual(error.details, {});
    assert.equal(error.event, null);
    assert.equal(errorFrom("not an object").code, "HANDLER_ERROR");
    assert.equal(errorFrom({ code: "RATE_LIMIT_ERROR", details: { retry_after: 1 } }).details["retry_after"], 1);
  });

  it("failures the client detects are not from the server", () => {
    const error = new SocketspecError("TIMEOUT", "late", { event: "e", requestId: "r" });
    assert.equal(error.fromServer, false);
    assert.ok(error instanceof Error);
    assert.equal(error.requestId, "r");
  });

  it("an __error__ before __connect__ rejects connect with its code", async () => {
    const network = new FakeNetwork();
    const connecting = TestClient.connect(URL, { WebSocket: network.WebSocket });
    network.last.receive({
      event: "__error__",
      payload: { code: "AUTH_ERROR", event: null, message: "bad token", request_id: "x", details: {} },
    });
    await assert.rejects(connecting, { code: "AUTH_ERROR", message: "AUTH_ERROR: bad token" });
  });

  it("a close before __connect__ rejects connect: 4001 as AUTH_ERROR, others as CONNECT_FAILED", async () => {
    for (const [code, expected] of [
      [4001, "AUTH_ERROR"],
      [1006, "CONNECT_FAILED"],
      [1011, "CONNECT_FAILED"],
    ] as const) {
      const network = new FakeNetwork();
      const connecting = TestClient.connect(URL, { WebSocket: network.WebSocket });
      network.last.drop(code, "nope");
      const error = await rejection(connecting);
      assert.ok(error instanceof SocketspecError);
      assert.equal(error.code, expected, `close code ${code}`);
      assert.match(error.message, new RegExp(`code ${code}: nope`));
    }
  });

  it("a WebSocket constructor that throws rejects connect with CONNECT_FAILED", async () => {
    const Refusing = class {
      constructor() {
        throw new Error("bad URL");
      }
    } as unknown as FakeNetwork["WebSocket"];
    await assert.rejects(TestClient.connect("nope", { WebSocket: Refusing }), {
      code: "CONNECT_FAILED",
      message: "cannot open nope: bad URL",
    });
  });

  it("without a WebSocket implementation, connect says what to pass", async () => {
    const global = globalThis as { WebSocket?: unknown };
    const saved = global.WebSocket;
    global.WebSocket = undefined;
    try {
      await assert.rejects(TestClient.connect(URL), (error: unknown) => {
        assert.ok(error instanceof SocketspecError);
        assert.equal(error.code, "CONNECT_FAILED");
        assert.match(error.message, /pass one as the `WebSocket` option/);
        return true;
      });
    } finally {
      global.WebSocket = saved;
    }
  });
});
