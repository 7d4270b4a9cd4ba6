// zx-values: ValueChannel (post, on('message')) between two Node processes, for the value
// cases (value-cases.mjs). The peer takes its endpoint as descriptor 3, as in zx.mjs.
import zx from '../../dist/index.js';
import { parseCase } from './protocol.mjs';
import { runValueCase, valuePeer } from './value-cases.mjs';
import { spawnPeer } from './zx.mjs';

const { Channel, ValueChannel, fdio, statusToString, ZX_OK } = zx;

export async function openMain(impl) {
  const { h, pid, exited } = spawnPeer(impl);
  const vc = new ValueChannel(new Channel(h));
  const t = { onValue: null, post: (v) => vc.post(v) };
  vc.on('message', (v) => t.onValue(v));
  await new Promise((resolve) => {
    t.onValue = resolve; // the peer's hello
  });
  return {
    peerPid: pid,
    runCase: (spec, options) => runValueCase(t, parseCase(spec), options),
    async close() {
      vc.close();
      await exited;
    },
  };
}

export function runPeer() {
  const { status, handle } = fdio.fdTransfer(3);
  if (status !== ZX_OK) throw new Error(`fdTransfer: ${statusToString(status)}`);
  const vc = new ValueChannel(new Channel(handle));
  vc.on(
    'message',
    valuePeer((v) => vc.post(v)),
  );
  vc.on('close', () => vc.close());
  vc.post('hello');
}
