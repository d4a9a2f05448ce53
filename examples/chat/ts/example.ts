// Two users join a room and exchange a typed message, using only the client
// generated from spec/chat.json. From the repository's root, with a chat
// server running (`cargo build -p socketspec-cli` makes the CLI,
// `npm ci --prefix tests/ts` installs TypeScript and Node's types):
//   target/debug/socketspec client --lang ts spec/chat.json -o examples/chat/ts/chat.ts
//   tests/ts/node_modules/.bin/tsc --strict --target ES2020 --lib ES2020 --module commonjs --typeRoots tests/ts/node_modules/@types --types node examples/chat/ts/example.ts
//   node --experimental-websocket examples/chat/ts/example.js ws://127.0.0.1:8080/ws
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
