/**
 * The upstream RAFS v6 images (nydus-image 2.2): a bootstrap + zstd blob pair and a self-contained blob
 * (bootstrap inside the ToC). Names, sizes and md5s are the ones the fixtures' README lists.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { openRafs, RafsFs } from '../../daemon/src/rafs';
import { CTX, listAll, readWhole } from './helpers/snapshot-fs';
import { upstreamFixtures } from '../helpers/mount';

const FIXTURES = upstreamFixtures().dir ?? upstreamFixtures().reason;
const BOOT = path.join(FIXTURES, 'rafs-v6-2.2.boot');
const BLOB = path.join(FIXTURES, 'be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef');
const SELF_CONTAINED = path.join(FIXTURES, '2fa78cad554b75ac91a4a125ed148d0ddeb25efa4aaa8bd80e5dc292690a4dca');
const present = fs.existsSync(BOOT) && fs.existsSync(BLOB) && fs.existsSync(SELF_CONTAINED);
const fixtureTest = present ? test : test.skip;
if (!present) console.log(`rafs fixtures: ${FIXTURES} is missing, upstream image tests skipped`);

type Expect = Record<string, [number, string]>;
const PAIR: Expect = {
  'lib.rs': [16931, '4709cf8873e419ecedc7d43fdee4a75f'],
  'sync_io.rs': [13400, '5442bc7dc9dc5f985c7594e23866ae6f'],
};
const INSIDE: Expect = {
  'error.rs': [2816, '411725b13e38cad854633d886c48cdb2'],
  'lib.rs': [678, 'c78754e7e5b95df7708cee9c0bb5685c'],
  'logger.rs': [3115, 'efd2750f3a97a9a57f15c834ffbaf186'],
};

async function checkContents(t: import('ava').ExecutionContext, rafs: RafsFs, expect: Expect, piece: number): Promise<void> {
  const names = (await listAll(rafs, 1)).map((d) => d.name.toString()).filter((n) => n !== '.' && n !== '..');
  t.deepEqual(names.sort(), Object.keys(expect).sort());
  for (const [name, [size, md5]] of Object.entries(expect)) {
    const e = await rafs.lookup(CTX, 1, Buffer.from(name));
    t.is(e.attr.size, size, name);
    t.is(e.attr.mode & 0o170000, 0o100000);
    const data = await readWhole(rafs, e.nodeid, size, piece);
    t.is(createHash('md5').update(data).digest('hex'), md5, `${name} read in ${piece}-byte pieces`);
  }
}

fixtureTest('bootstrap + blob from a localfs directory, digests validated', async (t) => {
  const rafs = await openRafs({ bootstrap: BOOT, localfsDir: FIXTURES, digestValidate: true });
  t.teardown(() => rafs.close());
  t.true(rafs.meta.sb.isRafsV6);
  await checkContents(t, rafs, PAIR, 128 * 1024);
  await checkContents(t, rafs, PAIR, 1000);
  t.is(rafs.data.chunks.stats.decompressions, 2, 'two zstd chunks, each decompressed once');
});

fixtureTest('bootstrap + blob given as an explicit blob path', async (t) => {
  const rafs = await openRafs({ bootstrap: BOOT, blobs: [BLOB] });
  t.teardown(() => rafs.close());
  await checkContents(t, rafs, PAIR, 4096);
});

fixtureTest('self-contained blob: --bootstrap BLOB alone', async (t) => {
  const rafs = await openRafs({ bootstrap: SELF_CONTAINED, digestValidate: true });
  t.teardown(() => rafs.close());
  t.true(rafs.meta.sb.isRafsV6);
  t.not(rafs.meta.blobIds()[0], path.basename(SELF_CONTAINED), 'the recorded blob id differs from the file name (fixture quirk)');
  await checkContents(t, rafs, INSIDE, 777);
});

fixtureTest('a missing blob is a clear ENOENT naming the blob', async (t) => {
  const empty = fs.mkdtempSync('/tmp/rafs-noblob-');
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }));
  const rafs = await openRafs({ bootstrap: BOOT, localfsDir: empty });
  t.teardown(() => rafs.close());
  const e = await rafs.lookup(CTX, 1, Buffer.from('lib.rs'));
  const err = await t.throwsAsync(rafs.read(CTX, e.nodeid, 0, 0, 100));
  t.regex(String(err?.message), /blob 0 \(be7d77ee/);
  t.is((err as { errno?: number }).errno, 2);
});

fixtureTest('a wrong chunk digest fails validation with EIO, and reads fine without validation', async (t) => {
  const dir = fs.mkdtempSync('/tmp/rafs-baddigest-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const boot = Buffer.from(fs.readFileSync(BOOT));
  const probe = await openRafs({ bootstrap: BOOT, blobs: [BLOB] });
  const ext = probe.meta.ext!;
  await probe.close();
  t.true(ext.chunkTableSize >= 160, 'the bootstrap carries a chunk info table');
  for (let off = ext.chunkTableOffset; off < ext.chunkTableOffset + ext.chunkTableSize; off += 80) boot[off] ^= 0xff;
  const badBoot = path.join(dir, 'bad.boot');
  fs.writeFileSync(badBoot, boot);

  const validated = await openRafs({ bootstrap: badBoot, blobs: [BLOB], digestValidate: true });
  t.teardown(() => validated.close());
  const e = await validated.lookup(CTX, 1, Buffer.from('lib.rs'));
  const err = await t.throwsAsync(validated.read(CTX, e.nodeid, 0, 0, 10), { message: /digest mismatch/ });
  t.is((err as { errno?: number }).errno, 5);

  const plain = await openRafs({ bootstrap: badBoot, blobs: [BLOB], digestValidate: false });
  t.teardown(() => plain.close());
  await checkContents(t, plain, PAIR, 65536);
});
