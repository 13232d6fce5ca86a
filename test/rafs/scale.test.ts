/**
 * An image of 100,000 files (mkfs.erofs of a generated tree) opens without reading its inodes, and a deep
 * lookup decodes only the inodes on its path. Timings are logged for the report; the assertions are on
 * work done (inodes decoded), which does not depend on the machine's speed.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { openRafs } from '../../daemon/src/rafs';
import { mkfsErofs, tempDir } from './helpers/system';
import { CTX } from './helpers/snapshot-fs';

test('100,000 files: open is lazy and a deep lookup touches only its path', async (t) => {
  const work = tempDir('scale');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  let t0 = performance.now();
  for (let d = 0; d < 100; d++) {
    const dir = path.join(src, `dir${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 1000; f++) fs.writeFileSync(path.join(dir, `file-${f}`), '');
  }
  const deep = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  fs.mkdirSync(path.join(src, ...deep), { recursive: true });
  fs.writeFileSync(path.join(src, ...deep, 'target'), 'found me\n');
  const img = path.join(work, 'img');
  mkfsErofs(img, src, []);
  t.log(`tree + mkfs.erofs: ${(performance.now() - t0).toFixed(0)} ms, image ${(fs.statSync(img).size / 1e6).toFixed(1)} MB`);

  t0 = performance.now();
  const rafs = await openRafs({ bootstrap: img });
  const openMs = performance.now() - t0;
  t.teardown(() => rafs.close());
  t.true(rafs.meta.sb.inos > 100_000);
  t.is(rafs.meta.cachedInodes, 1, 'only the root inode is decoded at open');

  t0 = performance.now();
  let nodeid = 1;
  for (const name of [...deep, 'target']) nodeid = (await rafs.lookup(CTX, nodeid, Buffer.from(name))).nodeid;
  const deepMs = performance.now() - t0;
  t.deepEqual(await rafs.read(CTX, nodeid, 0, 0, 100), Buffer.from('found me\n'));
  t.true(rafs.meta.cachedInodes <= deep.length + 2, `${rafs.meta.cachedInodes} inodes decoded for a 9-level lookup`);

  t0 = performance.now();
  const wide = await rafs.lookup(CTX, 1, Buffer.from('dir57'));
  const hit = await rafs.lookup(CTX, wide.nodeid, Buffer.from('file-999'));
  const wideMs = performance.now() - t0;
  t.is(hit.attr.size, 0);
  t.log(`open: ${openMs.toFixed(2)} ms; 9-level lookup: ${deepMs.toFixed(2)} ms; lookup in a 1000-entry dir: ${wideMs.toFixed(2)} ms`);
});
