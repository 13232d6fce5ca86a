/**
 * The bootstrap's byte source: peek() answers from memory only, and preload() reads a bootstrap that takes at
 * most half the block cache into it, so that later requests read nothing (and survive a dropped page cache).
 */
import test from 'ava';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { FileMetaSource } from '../../daemon/src/rafs/meta/source';
import { tempDir } from './helpers/system';

const KiB = 1024;

function file(t: { teardown(fn: () => void): void }, bytes: number): { file: string; data: Buffer } {
  const dir = tempDir('meta-source');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = crypto.randomBytes(bytes);
  fs.writeFileSync(path.join(dir, 'boot'), data);
  return { file: path.join(dir, 'boot'), data };
}

test('preload() reads a small bootstrap whole: then peek() has every byte without reading', async (t) => {
  const { file: boot, data } = file(t, 200 * KiB);
  const source = await FileMetaSource.open(boot, 8); // 8 blocks of 64 KiB: half is 256 KiB
  t.teardown(() => source.close());
  t.is(source.peek(0, 16), undefined, 'nothing in memory before');
  await source.preload();
  for (const [offset, length] of [[0, 16], [100 * KiB, 4 * KiB], [200 * KiB - 10, 10]]) {
    t.deepEqual(source.peek(offset, length), data.subarray(offset, offset + length), `${offset}+${length}`);
  }
  t.is(source.peek(64 * KiB - 8, 16), undefined, 'a range across two cache blocks is not peeked');
  t.is(source.peek(200 * KiB - 10, 11), undefined, 'nor one past the end');
});

test('preload() leaves a bootstrap larger than half the cache alone; read() still fills the cache', async (t) => {
  const { file: boot, data } = file(t, 200 * KiB);
  const source = await FileMetaSource.open(boot, 2); // half the cache is 64 KiB
  t.teardown(() => source.close());
  await source.preload();
  t.is(source.peek(0, 16), undefined);
  t.deepEqual(await source.read(70 * KiB, 16, 'test'), data.subarray(70 * KiB, 70 * KiB + 16));
  t.deepEqual(source.peek(70 * KiB, 16), data.subarray(70 * KiB, 70 * KiB + 16));
});

test('a closed source reads nothing more ahead', async (t) => {
  const { file: boot } = file(t, 64 * KiB);
  const source = await FileMetaSource.open(boot, 8);
  const inFlight = source.prefetch(0, 64 * KiB);
  await source.close();
  await inFlight;
  await source.preload();
  t.is(source.peek(0, 16), undefined);
});
