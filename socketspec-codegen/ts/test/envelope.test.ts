// The wire format: frames in, frames out.

import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { SocketspecError } from "../errors";
import { decodeEnvelope, encodeEnvelope, withQuery } from "../transport";
import { FakeNetwork, TestClient, URL, connected, nextTask } from "./fake_socket";

describe("envelope", () => {
  it("decodes text frames, reading a missing or null payload as {}", () => {
    assert.deepEqual(decodeEnvelope('{"event":"a","payload":{"x":1},"id":"7"}'), {
      event: "a",
      payload: { x: 1 },
      id: "7",
    });
    assert.deepEqual(decodeEnvelope('{"event":"a"}'), { event: "a", payload: {} });
    assert.deepEqual(decodeEnvelope('{"event":"a","payload":null}'), { event: "a", payload: {} });
    assert.deepEqual(decodeEnvelope('{"event":"a","payload":[1]}'), { event: "a", payload: [1] });
  });

  it("drops an id that is not a string", () => {
    assert.deepEqual(decodeEnvelope('{"event":"a","id":7}'), { event: "a", payload: {} });
  });

  it("reads a positive integer seq and drops any other", () => {
    assert.deepEqual(decodeEnvelope('{"event":"a","payload":{},"id":"7","seq":3}'), {
      event: "a",
      payload: {},
      id: "7",
      seq: 3,
    });
    for (const seq of ["0", "-1", "1.5", '"4"', "null", "1e300"]) {
      assert.deepEqual(decodeEnvelope(`{"event":"a","seq":${seq}}`), { event: "a", payload: {} }, seq);
    }
  });

  it("decodes binary frames as UTF-8", () => {
    const bytes = new TextEncoder().encode('{"event":"caf\u00e9"}');
    assert.deepEqual(decodeEnvelope(bytes), { event: "caf\u00e9", payload: {} });
    assert.deepEqual(decodeEnvelope(bytes.buffer), { event: "caf\u00e9", payload: {} });
  });

  it("refuses what is not an envelope", () => {
    for (const frame of [
      "not json",
      "[]",
      "null",
      "42",
      '"text"',
      "{}",
      '{"event":1}',
      '{"payload":{}}',
      { event: "an object, not a frame" },
      undefined,
    ]) {
      assert.equal(decodeEnvelope(frame), null, JSON.stringify(frame));
    }
  });

  it("encodes an id only when there is one, and a missing payload as {}", () => {
    assert.equal(encodeEnvelope({ event: "a", payload: { x: 1 } }), '{"event":"a","payload":{"x":1}}');
    assert.equal(encodeEnvelope({ event: "a", payload: undefined }), '{"event":"a","payload":{}}');
    assert.equal(
      encodeEnvelope({ event: "a", payload: {}, id: "ts-1" }),
      '{"event":"a","payload":{},"id":"ts-1"}',
    );
  });

  it("adds query parameters before the fragment, escaped", () => {
    assert.equal(withQuery("ws://h/ws", "token", "a b&c"), "ws://h/ws?token=a%20b%26c");
    assert.equal(withQuery("ws://h/ws?x=1#top", "api_key", "k"), "ws://h/ws?x=1&api_key=k#top");
  });

  it("keeps the other query parameters and replaces one of the same name", () => {
    assert.equal(
      withQuery("ws://h/ws?token=t&resume=old&x=1", "resume", "new"),
      "ws://h/ws?token=t&x=1&resume=new",
    );
    assert.equal(withQuery("ws://h/ws?last%5Fseq=9", "last_seq", "2"), "ws://h/ws?last_seq=2");
    assert.equal(withQuery("ws://h/ws?", "a", "1"), "ws://h/ws?a=1");
    assert.equal(withQuery("ws://h/ws?&flag&", "a", "1"), "ws://h/ws?flag&a=1");
    assert.equal(withQuery("ws://h/ws?bad=%E0%A4%A", "a", "1"), "ws://h/ws?bad=%E0%A4%A&a=1");
  });

  it("sends credentials as query parameters", async () => {
    const network = new FakeNetwork();
    const connecting = TestClient.connect(URL, {
      WebSocket: network.WebSocket,
      token: "jwt.value",
      apiKey: "key 1",
    });
    network.last.acceptConnection();
    await connecting;
    assert.equal(network.last.url, `${URL}?token=jwt.value&api_key=key%201`);
  });

  it("emit sends the event and payload without an id; requests carry a fresh id", async () => {
    const { client, socket } = await connected();
    client.emit("note", { text: "hi" });
    const pending = client.request("echo", { n: 1 }).catch((error: unknown) => error);
    await client.send("fire", {});
    const [emitted, requested, sent] = socket.sentEnvelopes();
    assert.deepEqual(emitted, { event: "note", payload: { text: "hi" } });
    assert.equal(requested?.["event"], "echo");
    assert.deepEqual(requested?.["payload"], { n: 1 });
    assert.equal(typeof requested?.["id"], "string");
    assert.equal(typeof sent?.["id"], "string");
    assert.notEqual(requested?.["id"], sent?.["id"]);
    await client.close();
    assert.ok((await pending) instanceof SocketspecError);
  });

  it("ignores frames that are not envelopes and keeps the connection", async () => {
    const { client, socket } = await connected();
    await nextTask();
    const seen: string[] = [];
    client.on("greeting", (payload) => seen.push(payload.text));
    socket.receive("garbage");
    socket.receive('{"no":"event"}');
    socket.receiveData({ not: "a frame" });
    socket.receive({ event: "greeting", payload: { text: "still here" } });
    assert.deepEqual(seen, ["still here"]);
    assert.equal(client.state, "open");
  });

  it("refuses to send while the connection is not open", async () => {
    const { client, socket } = await connected();
    socket.drop(1006);
    assert.throws(
      () => client.emit("note", {}),
      (error: unknown) => error instanceof SocketspecError && error.code === "DISCONNECTED",
    );
    await assert.rejects(client.send("fire", {}), { code: "DISCONNECTED" });
  });
});
