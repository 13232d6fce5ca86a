/**
 * A streaming tar parser: ustar, GNU (long names 'L'/'K', base-256 numbers) and pax ('x' per entry,
 * 'g' global) headers, with xattrs from SCHILY.xattr.* records. It yields one entry at a time; the caller
 * reads that entry's data with readData() before asking for the next. GNU sparse entries are refused.
 */
import { StreamReader } from './stream-reader';

export interface TarEntry {
  /** Raw path bytes as latin1 (one char per byte). */
  path: string;
  /** Typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo. */
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  mtimeNsec: number;
  linkName: string;
  devMajor: number;
  devMinor: number;
  xattrs: Map<string, Buffer>;
}

export class TarFormatError extends Error {}

const BLOCK = 512;

function cstr(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('latin1');
}

function num(buf: Buffer, start: number, len: number): number {
  if (buf[start] & 0x80) {
    let v = BigInt(buf[start] & 0x7f);
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(buf[start + i]);
    return Number(v);
  }
  const text = cstr(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad octal number "${text}" in tar header`);
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const field = cstr(h, 148, 8).trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  return want === unsigned || want === signed;
}

/** Parses pax records "LEN key=value\n" (values are raw bytes). */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || at + len > data.length) throw new TarFormatError('malformed pax record');
    const record = data.subarray(space + 1, at + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError('malformed pax record (no "=")');
    out.set(record.subarray(0, eq).toString('latin1'), Buffer.from(record.subarray(eq + 1)));
    at += len;
  }
  return out;
}

function parseTime(text: string): [number, number] {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new TarFormatError(`bad pax mtime "${text}"`);
  if (m[1] === '-') return [0, 0];
  return [Number(m[2]), Number((m[3] ?? '').padEnd(9, '0').slice(0, 9))];
}

export class TarReader {
  private remaining = 0;
  private padding = 0;
  private globals = new Map<string, Buffer>();

  constructor(private readonly input: StreamReader) {}

  get position(): number {
    return this.input.position;
  }

  /** The next entry, or undefined at the end of the archive. */
  async next(): Promise<TarEntry | undefined> {
    await this.input.skip(this.remaining + this.padding);
    this.remaining = 0;
    this.padding = 0;
    let pax = new Map<string, Buffer>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const at = this.input.position;
      const h = await this.input.read(BLOCK);
      if (!h || h.every((b) => b === 0)) return undefined;
      if (!checksumOk(h)) throw new TarFormatError(`invalid tar header checksum at byte ${at} (not a tar archive, or a damaged one)`);
      const type = String.fromCharCode(h[156] || 0x30);
      const size = num(h, 124, 12);
      if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
        const data = await this.input.readExact(size);
        await this.input.skip(pad(size));
        if (type === 'x') pax = new Map([...pax, ...parsePax(data)]);
        else if (type === 'g') this.globals = new Map([...this.globals, ...parsePax(data)]);
        else if (type === 'L') longName = cstr(data, 0, data.length);
        else longLink = cstr(data, 0, data.length);
        continue;
      }
      if (type === 'S' || [...pax.keys()].some((k) => k.startsWith('GNU.sparse'))) {
        throw new TarFormatError(`sparse tar entries are not supported (at byte ${at})`);
      }
      const records = new Map([...this.globals, ...pax]);
      const ustar = h.subarray(257, 263).toString('latin1') === 'ustar\0';
      const prefix = ustar ? cstr(h, 345, 155) : '';
      let path = longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
      if (records.has('path')) path = records.get('path')!.toString('latin1');
      let linkName = longLink ?? cstr(h, 157, 100);
      if (records.has('linkpath')) linkName = records.get('linkpath')!.toString('latin1');
      let [mtimeSec, mtimeNsec] = [num(h, 136, 12), 0];
      if (records.has('mtime')) [mtimeSec, mtimeNsec] = parseTime(records.get('mtime')!.toString('ascii'));
      const xattrs = new Map<string, Buffer>();
      for (const [k, v] of records) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
      const entry: TarEntry = {
        path, type, linkName, xattrs, mtimeSec, mtimeNsec,
        size: records.has('size') ? Number(records.get('size')!.toString('ascii')) : size,
        mode: num(h, 100, 8) & 0o7777,
        uid: records.has('uid') ? Number(records.get('uid')!.toString('ascii')) : num(h, 108, 8),
        gid: records.has('gid') ? Number(records.get('gid')!.toString('ascii')) : num(h, 116, 8),
        devMajor: num(h, 329, 8),
        devMinor: num(h, 337, 8),
      };
      this.remaining = entry.size;
      this.padding = pad(entry.size);
      return entry;
    }
  }

  /** Up to n bytes of the current entry's data (exactly n unless fewer remain). */
  async readData(n: number): Promise<Buffer> {
    const take = Math.min(n, this.remaining);
    const out = await this.input.readExact(take);
    this.remaining -= take;
    return out;
  }
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
