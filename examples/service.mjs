// A service that any process of this user can open a channel to by name, and three client
// processes (examples/client.mjs) calling it.
//   node examples/service.mjs [path]             serve three clients started here, then exit
//   node examples/service.mjs --forever [path]   keep serving until Ctrl-C (try client.mjs)
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zx from '../dist/index.js';

const { listen } = zx;

const forever = process.argv.includes('--forever');
const path =
  process.argv.slice(2).find((arg) => !arg.startsWith('--')) ??
  join(tmpdir(), `zircon-ipc-example-${process.getuid()}.sock`);

// Each client hands us one end of a channel; every call on it gets an answer. The first
// 4 bytes of a call are its transaction id, which the answer must start with.
let requests = 0;
const server = listen(path, async ({ channel, pid, uid }) => {
  console.log(`service: a channel from pid ${pid} (uid ${uid})`);
  for await (const { bytes } of channel) {
    const text = bytes.subarray(4).toString();
    const answer = `${text.toUpperCase()} (request ${++requests}, answered by pid ${process.pid})`;
    channel.write(Buffer.concat([bytes.subarray(0, 4), Buffer.from(answer)]));
  }
  channel.close(); // the client closed its end
});
console.log(`service ${process.pid} listening on ${path} (mode 0600)`);

if (forever) {
  const stop = () => {
    server.close(); // stops listening and removes the socket file
    console.log(`service: stopped after ${requests} requests; ${path} removed`);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  const client = fileURLToPath(new URL('./client.mjs', import.meta.url));
  const codes = await Promise.all(
    [1, 2, 3].map(
      (n) =>
        new Promise((resolve) => {
          spawn(process.execPath, [client, path, `client ${n}`], { stdio: 'inherit' }).on('exit', resolve);
        }),
    ),
  );
  server.close();
  console.log(`service: ${requests} requests answered; clients exited with ${codes.join(', ')}; ${path} removed`);
  process.exitCode = codes.every((code) => code === 0) ? 0 : 1;
}
