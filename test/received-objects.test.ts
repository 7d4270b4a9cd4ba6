// Objects received from a writer outside the library, each shown by what a user sees: an
// event whose page cannot be written is a bad record, a memfd sealed against one size
// change still changes size.
import { describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_READABLE,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_OUT_OF_RANGE,
  ZX_OBJ_TYPE_VMO,
  ZX_OK,
} from '../lib/index';
import { baseline, expectBaseline } from './fixtures/channels';
import { openFdCount } from './fixtures/fds';
import { pythonCode, spawnWithEndpoint, waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';

// Records a program outside the library writes on the endpoint it inherited as fd 3 (on
// the backend's transport, test/fixtures/wire.py): an EVENT whose page is a read-only
// memfd, an EVENT whose page is sealed against writes, an EVENTPAIR side whose page is
// read-only, then a valid record. The page of an event is written by every holder, so
// neither can be one: the records are bad input.
const UNWRITABLE_PAGES = String.raw`
import fcntl, os, socket
from wire import entry, header, receive_record, send_record
F_SEAL_FUTURE_WRITE = 0x10
def page(seals, read_only):
    fd = os.memfd_create('page', os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, 4096)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    if not read_only: return fd
    copy = os.open('/proc/self/fd/%d' % fd, os.O_RDONLY)
    os.close(fd)
    return copy
def send(data, fds): send_record(sock, data, fds, close=True)
sock = socket.socket(fileno=3)
sock.setblocking(True)
pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)  # an eventpair's, on both backends
send(header(1, 3) + entry(5, 0xD003) + b'one', [page(fcntl.F_SEAL_SHRINK, True), os.eventfd(0)])
send(header(1, 3) + entry(5, 0xD003) + b'two', [page(fcntl.F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE, False), os.eventfd(0)])
send(header(1, 5) + entry(16, 0xF003) + b'three', [pair[0].detach(), page(fcntl.F_SEAL_SHRINK, True), os.eventfd(0)])
send(header(0, 5) + b'valid', [])
receive_record(sock)
`;

describe('events from the wire', () => {
  it('an event or eventpair whose page cannot be written is a bad record (IO_DATA_INTEGRITY), not a lack of resources', async () => {
    await warmUpSpawn();
    warmUpWait();
    const before = baseline();
    const { status, out0: ch, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = spawnWithEndpoint('python3', pythonCode(UNWRITABLE_PAGES), out1);
    const seen: { status: number; bytes: string; handles: number }[] = [];
    for (let i = 0; i < 4; i++) {
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      const fds = openFdCount();
      const r = sys.channelReadEtc(ch, 0, 65536, 64);
      seen.push({ status: r.status, bytes: r.bytes.toString(), handles: r.handles.length });
      expect(openFdCount()).toBe(fds); // whatever came with a bad record is closed
    }
    expect(seen).toEqual([
      { status: ZX_ERR_IO_DATA_INTEGRITY, bytes: '', handles: 0 },
      { status: ZX_ERR_IO_DATA_INTEGRITY, bytes: '', handles: 0 },
      { status: ZX_ERR_IO_DATA_INTEGRITY, bytes: '', handles: 0 },
      { status: ZX_OK, bytes: 'valid', handles: 0 },
    ]);
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(sys.handleClose(ch)).toBe(ZX_OK);
    expectBaseline(before);
  });
});

// A writer outside the library sends two memfds as VMOs, each of two pages and sealed
// against one size change only: `grow` can still shrink, `shrink` can still grow. Told
// "resize", it shrinks the first to one page and grows the second to three, and answers.
const HALF_SEALED = String.raw`
import fcntl, os, socket
from wire import entry, header, receive_record, send_record
def memfd(seal):
    fd = os.memfd_create('zircon-vmo', os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, 8192)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seal)
    return fd
sock = socket.socket(fileno=3)
sock.setblocking(True)
grow, shrink = memfd(fcntl.F_SEAL_GROW), memfd(fcntl.F_SEAL_SHRINK)
send_record(sock, header(2, 4) + entry(3, 0xD0EF, 0x8000000000F00011) + entry(3, 0xD0EF, 0x8000000000F00012) + b'vmos',
            [grow, shrink])
receive_record(sock)
os.ftruncate(grow, 4096)
os.ftruncate(shrink, 12288)
send_record(sock, header(0, 7) + b'resized')
receive_record(sock)
`;

describe('VMOs from the wire', () => {
  it('a memfd sealed against only one of growing and shrinking still changes size: its size is not taken as fixed', async () => {
    await warmUpSpawn();
    warmUpWait();
    const before = baseline();
    const { status, out0: ch, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const writer = spawnWithEndpoint('python3', pythonCode(HALF_SEALED), out1);
    const size = (h: number) => sys.vmoGetSize(h);

    await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, writer.stderr());
    const r = sys.channelReadEtc(ch, 0, 64, 2);
    expect({ status: r.status, bytes: r.bytes.toString(), types: r.handles.map((h) => h.type) }).toEqual({
      status: ZX_OK,
      bytes: 'vmos',
      types: [ZX_OBJ_TYPE_VMO, ZX_OBJ_TYPE_VMO],
    });
    const [grow, shrink] = r.handles.map((h) => h.handle);
    expect([size(grow), size(shrink)]).toEqual([
      { status: ZX_OK, size: 8192n },
      { status: ZX_OK, size: 8192n },
    ]);

    expect(sys.channelWrite(ch, 0, Buffer.from('resize'), null)).toBe(ZX_OK);
    await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, writer.stderr());
    expect(sys.channelRead(ch, 0, 64, 0).bytes.toString()).toBe('resized');
    expect([size(grow), size(shrink)]).toEqual([
      { status: ZX_OK, size: 4096n },
      { status: ZX_OK, size: 12288n },
    ]);
    // Reads follow the real size: the second page of `grow` is gone, the third of `shrink` is there.
    expect(sys.vmoRead(grow, 1, 4096).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoRead(shrink, 4096, 8192)).toMatchObject({ status: ZX_OK });

    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await writer.closed).toEqual({ code: 0, signal: null });
    expect(writer.stderr()).toBe('');
    expect(sys.handleCloseMany([ch, grow, shrink])).toBe(ZX_OK);
    expectBaseline(before);
  });
});
