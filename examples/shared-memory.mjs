// Shared memory between two processes: a VMO mapped by both, and an eventpair to say
// whose turn it is. The child squares the numbers the parent leaves in the shared page;
// no bytes go through a socket after the start.
import { fileURLToPath } from 'node:url';
import zx from '../dist/index.js';

const { EventPair, Vmo, spawn, takeStartupHandle, PA_HND, PA_USER0, ZX_EVENTPAIR_PEER_CLOSED, ZX_USER_SIGNAL_0 } = zx;
const VMO_ID = PA_HND(PA_USER0, 0);
const TURN_ID = PA_HND(PA_USER0, 1);
const YOUR_TURN = ZX_USER_SIGNAL_0;
const COUNT = 1000;

if (process.argv[2] === 'child') {
  const page = new Float64Array(new Vmo(takeStartupHandle(VMO_ID)).map());
  const turn = new EventPair(takeStartupHandle(TURN_ID));
  for (;;) {
    const seen = await turn.wait(YOUR_TURN | ZX_EVENTPAIR_PEER_CLOSED);
    if (seen & ZX_EVENTPAIR_PEER_CLOSED) break; // the parent is done
    page[1] = page[0] * page[0];
    turn.signal(YOUR_TURN, 0); // clear ours, then hand the turn back
    turn.signalPeer(0, YOUR_TURN);
  }
  turn.close();
} else {
  const vmo = Vmo.create(4096);
  const page = new Float64Array(vmo.map());
  const [turn, theirs] = EventPair.create();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child'], {
    stdio: 'inherit',
    handles: [
      { id: VMO_ID, handle: vmo.duplicate() },
      { id: TURN_ID, handle: theirs },
    ],
  });
  let sum = 0;
  const start = process.hrtime.bigint();
  for (let i = 1; i <= COUNT; i++) {
    page[0] = i;
    turn.signalPeer(0, YOUR_TURN);
    await turn.wait(YOUR_TURN);
    turn.signal(YOUR_TURN, 0);
    sum += page[1];
  }
  const micros = Number(process.hrtime.bigint() - start) / COUNT / 1000;
  console.log(
    `the child squared ${COUNT} numbers in shared memory; sum ${sum} (expected ${(COUNT * (COUNT + 1) * (2 * COUNT + 1)) / 6})`,
  );
  console.log(`one turn there and back: ${micros.toFixed(1)} µs, mean of ${COUNT}`);
  turn.close(); // the child sees PEER_CLOSED and ends
  vmo.close();
  child.on('exit', (code) => {
    console.log(`child exited with code ${code}`);
    process.exitCode = code ?? 1;
  });
}
