// What the shared memory of VMOs and events is on each backend (docs/objects.md, "VMOs on
// the portable backend"): memfds on the linux backend; on the portable one what macOS has,
// a shared-memory object (shm_open, unlinked at once) where the size must never change and
// an unlinked temporary file where it must, and no memfd at all. Seen from here through
// /proc/self/fd: the descriptors each object adds, and their links.
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { sys, ZX_OK, ZX_VMO_RESIZABLE } from '../lib/index';
import { portable } from './fixtures/backend';
import { event, keepBaseline, vmo } from './fixtures/core';
import { fdLinks } from './fixtures/fds';

keepBaseline();

/** The links of the descriptors `make` opened here (a number the listing used before may
 *  come back with a new link). */
function linksOfNew(make: () => number): { handle: number; links: string[] } {
  const before = fdLinks();
  const handle = make();
  const links = [...fdLinks()]
    .filter(([n, link]) => before.get(n) !== link)
    .map(([, link]) => link)
    .sort();
  return { handle, links };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('shared memory', () => {
  it('a VMO of fixed size: a sealed memfd, or a shared-memory object and its read-only twin', () => {
    const { handle, links } = linksOfNew(() => vmo(4096));
    if (portable) {
      expect(links).toHaveLength(2);
      for (const l of links) expect(l).toMatch(/^\/dev\/shm\/zircon-vmo\.[0-9a-f]+ \(deleted\)$/);
      expect(links[0]).toBe(links[1]); // the same object, opened read-write and read-only
    } else {
      expect(links).toEqual(['/memfd:zircon-vmo (deleted)']);
    }
    expect(sys.handleClose(handle)).toBe(ZX_OK);
  });

  it('a resizable VMO: a memfd, or a temporary file and its read-only twin', () => {
    const { handle, links } = linksOfNew(() => vmo(4096, ZX_VMO_RESIZABLE));
    if (portable) {
      expect(links).toHaveLength(2);
      // (In /tmp when $TMPDIR is shm_open's own directory, where it would pass for one.)
      const file = new RegExp(`^(${escapeRegExp(tmpdir())}|/tmp)/zircon-vmo\\.\\w{6} \\(deleted\\)$`);
      for (const l of links) expect(l).toMatch(file);
      expect(links[0]).toBe(links[1]);
    } else {
      expect(links).toEqual(['/memfd:zircon-vmo (deleted)']);
    }
    expect(sys.handleClose(handle)).toBe(ZX_OK);
  });

  it("an event's page of signal words: a sealed memfd, or a shared-memory object", () => {
    const { handle, links } = linksOfNew(event);
    // (Its other descriptor is the doorbell.)
    const pages = links.filter((l) => l.includes('zircon'));
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatch(
      portable ? /^\/dev\/shm\/zircon-sig\.[0-9a-f]+ \(deleted\)$/ : /^\/memfd:zircon-ipc-signals \(deleted\)$/,
    );
    expect(links.some((l) => l.startsWith('/memfd:'))).toBe(!portable);
    expect(sys.handleClose(handle)).toBe(ZX_OK);
  });
});
