// Two users join a room and exchange a typed message, using only the client
// generated from spec/chat.json (`chat.ts`, written beside this file by
// `socketspec_codegen::Builder::typescript_out`). With a chat server running:
//   tsc --strict --module commonjs example.ts && node --experimental-websocket example.js ws://127.0.0.1:8080/ws
import { Client, NewMessage } from "./chat";

async function main(url: string): Promise<void> {
  const alice = await Client.connect(url);
  const bob = await Client.connect(url);
  const received = new Promise<NewMessage>((resolve) => bob.on("new_message", resolve));
  await alice.joinRoom({ room: "general" });
  const joined = await bob.joinRoom({ room: "general" });
  console.log(`bob joined ${joined.room}: ${joined.members} members`);
  const ack = await alice.sendMessage({ room: "general", text: "hello, bob" });
  console.log(`alice sent message ${ack.message_id}: ${ack.status}`);
  const message = await received;
  const from = message.from === alice.connectionId ? "alice" : message.from;
  console.log(`bob received "${message.text}" from ${from} in ${message.room}`);
  await Promise.all([alice.close(), bob.close()]);
}

main(process.argv[2] ?? "ws://127.0.0.1:8080/ws").catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
