/**
 * close() releases every file handle the reader opened (bootstrap, blobs), and is idempotent.
 * Alone in its file so no concurrent test in this process opens descriptors meanwhile.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { openRafs } from '../../daemon/src/rafs';
import { mkfsErofs, tempDir } from './helpers/system';
import { CTX } from './helpers/snapshot-fs';

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

test('close() returns the process to its descriptor count', async (t) => {
  const work = tempDir('handles');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  fs.mkdirSync(path.join(work, 'src'));
  fs.writeFileSync(path.join(work, 'src', 'f'), Buffer.alloc(20000, 3));
  const img = path.join(work, 'img');
  const blob = path.join(work, 'blob');
  mkfsErofs(img, path.join(work, 'src'), ['--chunksize=4096', `--blobdev=${blob}`]);
  const before = openFds();
  const rafs = await openRafs({ bootstrap: img, blobs: [blob] });
  const f = await rafs.lookup(CTX, 1, Buffer.from('f'));
  t.deepEqual(await rafs.read(CTX, f.nodeid, 0, 0, 20000), Buffer.alloc(20000, 3));
  t.true(openFds() >= before + 2, 'bootstrap and blob are open while mounted');
  await rafs.close();
  await rafs.close();
  t.is(openFds(), before);
  await t.throwsAsync(rafs.read(CTX, f.nodeid, 0, 0, 10));
});
