/** The tar parser on hand-made archives: pax records with binary values, base-256 sizes, refusals. */
import test from 'ava';
import { Readable } from 'stream';
import { TarReader, parsePax } from '../../daemon/src/builder/tar-reader';
import { StreamReader } from '../../daemon/src/builder/stream-reader';

function header(name: string, type: string, size: number, opts: { base256Size?: boolean } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'latin1');
  h.write('0000644\0', 100);
  h.write('0001750\0', 108);
  h.write('0001750\0', 116);
  if (opts.base256Size) {
    h[124] = 0x80;
    h.writeUIntBE(size, 136 - 6, 6);
  } else {
    h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  }
  h.write('14000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\x0000', 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function reader(...parts: Buffer[]): TarReader {
  return new TarReader(new StreamReader(Readable.from([Buffer.concat([...parts, Buffer.alloc(1024)])])));
}

test('parsePax keeps binary xattr values and multi-byte lengths', (t) => {
  const value = Buffer.from([0, 1, 0xff, 0x0a, 0x3d]);
  const rec = Buffer.concat([paxRecord('SCHILY.xattr.user.bin', value), paxRecord('path', Buffer.from('a/'.repeat(60) + 'z'))]);
  const m = parsePax(rec);
  t.true(m.get('SCHILY.xattr.user.bin')!.equals(value));
  t.is(m.get('path')!.toString(), 'a/'.repeat(60) + 'z');
});

test('pax path, mtime with nanoseconds and xattrs override the ustar header', async (t) => {
  const pax = Buffer.concat([paxRecord('path', Buffer.from('long/' + 'n'.repeat(200))), paxRecord('mtime', Buffer.from('1700000000.123456789')),
    paxRecord('SCHILY.xattr.user.k', Buffer.from('v')), paxRecord('uid', Buffer.from('100000'))]);
  const tar = reader(header('PaxHeader', 'x', pax.length), padded(pax), header('short', '0', 3), padded(Buffer.from('abc')));
  const e = await tar.next();
  t.is(e?.path, 'long/' + 'n'.repeat(200));
  t.is(e?.mtimeSec, 1700000000);
  t.is(e?.mtimeNsec, 123456789);
  t.is(e?.uid, 100000);
  t.is(e?.gid, 0o1750);
  t.is(e?.xattrs.get('user.k')?.toString(), 'v');
  t.is((await tar.readData(10)).toString(), 'abc');
  t.is(await tar.next(), undefined);
});

test('GNU long names and base-256 sizes', async (t) => {
  const name = Buffer.from('x'.repeat(300) + '\0');
  const tar = reader(header('././@LongLink', 'L', name.length), padded(name), header('trunc', '0', 5, { base256Size: true }), padded(Buffer.from('12345')),
    header('second', '5', 0));
  const e = await tar.next();
  t.is(e?.path, 'x'.repeat(300));
  t.is(e?.size, 5);
  const d = await tar.next();
  t.is(d?.path, 'second', 'unread data of the previous entry is skipped');
  t.is(d?.type, '5');
});

test('bad checksums, sparse entries and truncation are clear errors', async (t) => {
  const bad = header('f', '0', 0);
  bad[0] ^= 1;
  await t.throwsAsync(reader(bad).next(), { message: /checksum at byte 0/ });
  await t.throwsAsync(reader(header('s', 'S', 0)).next(), { message: /sparse/ });
  const cut = new TarReader(new StreamReader(Readable.from([header('f', '0', 4096), Buffer.alloc(100)])));
  await cut.next();
  await t.throwsAsync(cut.readData(4096), { message: /unexpected end of stream/ });
});
