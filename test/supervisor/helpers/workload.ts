/**
 * One role of the continuous workload run on a mount while daemons are replaced under it. Every operation is
 * a real system call on the mount, checked for the right result; each error is recorded (a failed syscall is
 * what the handover must never cause), and each operation's latency too (the longest is the stall).
 * Runs until the file STOPFILE exists, then prints one JSON line: {role, ops, errors, maxMs, latencies, starts}.
 * usage: node workload.js ROLE MOUNT STOPFILE
 *   ROLE on a writable seeded share: reader | writer | lister | holder | unlinked | direct-reader
 *   ROLE on the upstream RAFS image rafs-v6-2.2.boot: image-reader | image-lister | image-holder
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const [role, mount, stopFile] = process.argv.slice(2);
export const SEED_FILES = 16;
export const SEED_SIZE = 64 * 1024;

export function seedContent(i: number): Buffer {
  const b = Buffer.alloc(SEED_SIZE);
  for (let o = 0; o < SEED_SIZE; o += 4) b.writeUInt32LE((i * 2654435761 + o) >>> 0, o);
  return b;
}

const errors: string[] = [];
const latencies: number[] = [];
/** When each operation started, ms since the epoch (sub-millisecond). */
const starts: number[] = [];
let ops = 0;

function op<T>(what: string, fn: () => T): T | undefined {
  const started = process.hrtime.bigint();
  starts.push(performance.timeOrigin + performance.now());
  try {
    return fn();
  } catch (err) {
    errors.push(`${what}: ${(err as Error).message}`);
    return undefined;
  } finally {
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    ops++;
  }
}

function check(cond: boolean, what: string): void {
  if (!cond) errors.push(`wrong result: ${what}`);
}

function reader(): void {
  const i = Math.floor(Math.random() * SEED_FILES);
  const data = op(`read seed-${i}`, () => fs.readFileSync(path.join(mount, `seed-${i}`)));
  if (data) check(data.equals(seedContent(i)), `content of seed-${i}`);
}

let written = 0;
function writer(): void {
  const n = written++;
  const name = path.join(mount, `w-${process.pid}-${n}`);
  const content = Buffer.from(`${name} ${'x'.repeat(n % 4000)}`);
  op(`create ${name}`, () => fs.writeFileSync(name, content, { flag: 'wx' }));
  const back = op(`reread ${name}`, () => fs.readFileSync(name));
  if (back) check(back.equals(content), `content of ${name}`);
  op(`append ${name}`, () => fs.appendFileSync(name, 'tail'));
  const appended = op(`stat ${name}`, () => fs.statSync(name).size);
  if (appended !== undefined) check(appended === content.length + 4, `size after append of ${name}`);
  const dir = path.join(mount, `d-${process.pid}-${n}`);
  op(`mkdir ${dir}`, () => fs.mkdirSync(dir));
  op(`rename into ${dir}`, () => fs.renameSync(name, path.join(dir, 'f')));
  if (n >= 3) {
    const old = path.join(mount, `d-${process.pid}-${n - 3}`);
    op(`unlink in ${old}`, () => fs.unlinkSync(path.join(old, 'f')));
    op(`rmdir ${old}`, () => fs.rmdirSync(old));
  }
}

function lister(): void {
  const names = op('readdir', () => fs.readdirSync(mount));
  if (names) for (let i = 0; i < SEED_FILES; i++) check(names.includes(`seed-${i}`), `seed-${i} listed`);
}

let heldFd = -1;
function holder(): void {
  if (heldFd < 0) heldFd = fs.openSync(path.join(mount, 'seed-0'), 'r');
  const buf = Buffer.alloc(4096);
  const off = Math.floor(Math.random() * (SEED_SIZE / 4096)) * 4096;
  const n = op('pread held file', () => fs.readSync(heldFd, buf, 0, buf.length, off));
  if (n !== undefined) check(n === 4096 && buf.equals(seedContent(0).subarray(off, off + 4096)), 'held file content');
}

let unlinkedFd = -1;
let unlinkedRound = 0;
function unlinked(): void {
  if (unlinkedFd < 0) {
    const name = path.join(mount, `unlinked-${process.pid}`);
    unlinkedFd = fs.openSync(name, 'w+');
    fs.unlinkSync(name);
  }
  const data = Buffer.alloc(512, unlinkedRound++ % 251);
  op('pwrite unlinked file', () => fs.writeSync(unlinkedFd, data, 0, data.length, 0));
  const back = Buffer.alloc(512);
  const n = op('pread unlinked file', () => fs.readSync(unlinkedFd, back, 0, back.length, 0));
  if (n !== undefined) check(n === 512 && back.equals(data), 'unlinked file content');
}

const DIRECT_FILES = 4;
const directName = (k: number) => path.join(mount, `direct-${process.pid}-${k}`);

/** 4 KiB of direct file k at a random page, read through `fd` (opened O_DIRECT) into an unaligned buffer; checked. */
function directPread(fd: number, k: number, what: string): void {
  const buf = Buffer.alloc(4096);
  const off = Math.floor(Math.random() * (SEED_SIZE / 4096)) * 4096;
  const n = op(`O_DIRECT pread ${what} direct-${k}`, () => fs.readSync(fd, buf, 0, buf.length, off));
  if (n !== undefined) check(n === 4096 && buf.equals(seedContent(100 + k).subarray(off, off + 4096)), `O_DIRECT content of direct-${k}`);
}

/**
 * O_DIRECT reads of files no other role opens, so that the daemon serves every open of them itself (on its read
 * threads; an O_DIRECT open of a file already open through the kernel's passthrough would follow it and get the
 * host's alignment rules): from a file held open, and from a fresh open each step.
 */
let directFd = -1;
function directReader(): void {
  const direct = fs.constants.O_RDONLY | fs.constants.O_DIRECT;
  if (directFd < 0) {
    for (let k = 0; k < DIRECT_FILES; k++) fs.writeFileSync(directName(k), seedContent(100 + k));
    directFd = fs.openSync(directName(0), direct);
  }
  directPread(directFd, 0, 'held');
  const k = Math.floor(Math.random() * DIRECT_FILES);
  const fd = op(`open direct-${k} O_DIRECT`, () => fs.openSync(directName(k), direct));
  if (fd === undefined) return;
  directPread(fd, k, 'fresh');
  op(`close direct-${k}`, () => fs.closeSync(fd));
}

/** Contents of /work/shared/fixtures/nydus-rafs-v6/rafs-v6-2.2.boot, from that directory's README. */
export const IMAGE_FILES: Record<string, string> = { 'lib.rs': '4709cf8873e419ecedc7d43fdee4a75f', 'sync_io.rs': '5442bc7dc9dc5f985c7594e23866ae6f' };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function imageReader(): void {
  const names = Object.keys(IMAGE_FILES);
  const name = names[Math.floor(Math.random() * names.length)];
  const data = op(`read ${name}`, () => fs.readFileSync(path.join(mount, name)));
  if (data) check(md5(data) === IMAGE_FILES[name], `md5 of ${name}`);
}

function imageLister(): void {
  const names = op('readdir', () => fs.readdirSync(mount));
  if (names) check(Object.keys(IMAGE_FILES).every((n) => names.includes(n)), 'image files listed');
}

let imageFd = -1;
function imageHolder(): void {
  if (imageFd < 0) imageFd = fs.openSync(path.join(mount, 'sync_io.rs'), 'r');
  const buf = Buffer.alloc(13400);
  const n = op('pread held image file', () => fs.readSync(imageFd, buf, 0, buf.length, 0));
  if (n !== undefined) check(n === 13400 && md5(buf) === IMAGE_FILES['sync_io.rs'], 'held image file content');
}

const roles: Record<string, () => void> = {
  reader, writer, lister, holder, unlinked, 'direct-reader': directReader, 'image-reader': imageReader, 'image-lister': imageLister, 'image-holder': imageHolder,
};

function main(): void {
  const step = roles[role];
  if (!step) throw new Error(`unknown role ${role}`);
  process.stdout.write('started\n');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!fs.existsSync(stopFile)) {
    step();
    Atomics.wait(pause, 0, 0, 2); // leave the two CPUs some room for the daemons
  }
  const maxMs = latencies.reduce((a, b) => Math.max(a, b), 0);
  process.stdout.write(JSON.stringify({ role, ops, errors: errors.slice(0, 20), errorCount: errors.length, maxMs, latencies, starts }) + '\n');
}

if (require.main === module) main();
