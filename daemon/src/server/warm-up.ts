/**
 * A fresh daemon runs its request path in V8's interpreter until the code has run often enough to be compiled.
 * On a 5,000-file image, a fresh daemon's first find (page cache dropped) took 123-127 ms, and 88 ms once the
 * same daemon had served a few hundred small requests first. warmUpRequests() serves such requests before the
 * mount appears: GETATTR, READDIRPLUS, READDIR, LOOKUP and FORGET down one path of the tree (another path each
 * round), encoded as the kernel would send them and handled by a throwaway Dispatcher on the real filesystem;
 * replies are decoded as far as needed, then discarded. Every lookup it causes (LOOKUP, READDIRPLUS entries with
 * attributes) is forgotten again. With 10 rounds (about 700 requests, at most 100 ms) that find took 98-100 ms
 * and the mount appeared 15-25 ms later. Taking another path each round (instead of the same one,
 * all cache hits after the first round), together with reading each directory ahead only once, took the first
 * find of a fresh daemon on a chunked image from 61.9 to 53.0 ms (mount, stat, page cache dropped, find; medians
 * of 8). The requests are a walk's: after each READDIRPLUS, a READDIR from where it ended (which finds nothing),
 * and a LOOKUP of a name that is not there. They reach the filesystem through a Vfs, as the mount's do
 * (service/backends.ts). Warmed on the bare filesystem, the first find threw away the compiled code of
 * encodeEntryOut, packPlain and fitting (objects of other shapes) and compiled the Vfs code only then; through a
 * Vfs it threw nothing away, and the compiler threads' CPU time during that find fell from 24.0 to 19.9 ms
 * (medians of 8; its wall time stayed within the noise, 45.1 against 44.5 ms). warmUpInBackground() goes on
 * once the mount is up, yielding to the mount's own requests, until applications start using it; going on while
 * they do made that find slower (97.9 ms). Neither ever throws: a failure only means the first requests are slower.
 */
import { FUSE_KERNEL_MINOR_VERSION, FUSE_KERNEL_VERSION, Opcode } from '../abi/opcodes';
import { direntSize, encodeInHeader, ENTRY_OUT_SIZE, IN_HEADER_SIZE, OUT_HEADER_SIZE, readU64, writeU64 } from '../abi/structs';
import { FileSystem, FUSE_ROOT_ID, isDotOrDotDot } from '../fs/filesystem';
import { createLogger } from '../log';
import { Dispatcher, instanceRouting, RoutedFileSystem } from './dispatcher';
import { negotiate } from './init';

const DT_DIR = 4;
/** Entries looked up per directory, and how deep a round goes (down the first subdirectory each time). */
const CHILDREN = 6;
const MAX_DEPTH = 3;
/** The find-like walks before the rounds: how many, and how many directories each enters. */
const WALK_PASSES = 2;
const WALK_DIRECTORIES = 24;
const READ_IN_SIZE = 40;

export interface WarmUpLimits {
  rounds: number;
  maxMs: number;
  /**
   * Wait for a turn of the event loop before each request, so that a live mount's requests are served in between
   * (each waits for at most one warm-up request), and stop as soon as this returns true (the filesystem closed,
   * or applications use the mount).
   */
  background?: { stopWhen: () => boolean };
}

/**
 * 20 rounds: with the find-like walks first, they took a fresh daemon's first find on a chunked image (mount,
 * stat, page cache dropped, find) from 43.9 to 36.5 and 33.8 ms in two loops (medians of 14, 10 rounds against
 * 20), for 36-42 ms more before the mount appears. 30 and 40 rounds gave 35.4 and 37.0 ms.
 */
export const DEFAULT_WARM_UP: WarmUpLimits = { rounds: 20, maxMs: 200 };

/**
 * Rounds that continue once the mount is up (see warmUpInBackground): on the 5,000-file image, 40 rounds before
 * the mount took a fresh daemon's first find (image in the page cache) from 78 to 58 ms, but delayed the mount
 * by 120 ms. Served in the background they delay nothing.
 */
const BACKGROUND_WARM_UP_ROUNDS = 30;
const BACKGROUND_WARM_UP_MS = 500;

/**
 * Resolves with the number of requests served (0 when the filesystem cannot list directories). `fs` should be
 * what the mount will serve (service/backends.ts passes a Vfs holding the new filesystem), and its Dispatcher is
 * set up as FuseSession sets up the mount's: code warmed on other objects than the mount's is thrown away at its
 * first request.
 */
export async function warmUpRequests(fs: RoutedFileSystem, limits: WarmUpLimits = DEFAULT_WARM_UP): Promise<number> {
  if (!fs.readdir) return 0;
  const wire = new WarmUpWire(fs, performance.now() + limits.maxMs, limits.background?.stopWhen);
  try {
    for (let pass = 0; pass < WALK_PASSES && !wire.expired; pass++) await walk(wire, FUSE_ROOT_ID, { left: WALK_DIRECTORIES });
    for (let round = 0; round < limits.rounds && !wire.expired; round++) {
      await visit(fs, wire, FUSE_ROOT_ID, 0, round);
    }
  } catch {
    // a listing failed: the image answers its requests with errors, and warming up stops there
  }
  return wire.served;
}

/**
 * Continues the warm-up once the mount is up: one request per turn of the event loop, until the rounds or the
 * time are used up or `stopWhen()` says to stop. Never rejects.
 */
export function warmUpInBackground(fs: RoutedFileSystem, stopWhen: () => boolean): Promise<number> {
  return warmUpRequests(fs, { rounds: BACKGROUND_WARM_UP_ROUNDS, maxMs: BACKGROUND_WARM_UP_MS, background: { stopWhen } });
}

/**
 * Walks like find: each directory listed names-only (no entry but subdirectories is looked up, so the listings
 * stay names-only: server/readdirplus-advisor.ts), read to its end, and entered through a LOOKUP; at most
 * `budget.left` directories. The first pass looks the subdirectories up after packing each listing (their inodes
 * are not read yet), the second finds them at hand: both ways of packNamesOnly's encoding run, which the rounds
 * below, whose lookups of files turn listings into ones with attributes, hardly ever run (a fresh daemon's first
 * find compiled it anew).
 */
async function walk(wire: WarmUpWire, nodeid: number, budget: { left: number }): Promise<void> {
  const listing = await wire.call(Opcode.READDIRPLUS, nodeid, readIn(4096));
  if (!listing) return;
  const subdirectories: Buffer[] = [];
  const end = forgetListed(wire, listing, subdirectories);
  if (end !== undefined) await wire.call(Opcode.READDIR, nodeid, readIn(4096, end));
  for (const name of subdirectories) {
    if (budget.left-- <= 0 || wire.expired) return;
    const child = await lookUp(wire, nodeid, name);
    if (child === undefined) continue;
    await walk(wire, child, budget);
    wire.forget(child);
  }
}

/**
 * Lists `nodeid` as a walk would, looks up CHILDREN of its entries, and goes down into the first directory among
 * them. Round r starts r * CHILDREN entries further into each listing, so that successive rounds take other
 * paths: requests for entries not seen before run the code that decodes and caches them, which a round over the
 * same entries (all cache hits) never warms.
 */
async function visit(fs: FileSystem, wire: WarmUpWire, nodeid: number, depth: number, round: number): Promise<void> {
  await wire.call(Opcode.GETATTR, nodeid, Buffer.alloc(16));
  const listing = await wire.call(Opcode.READDIRPLUS, nodeid, readIn(4096));
  // As a walk's getdents does next: ask on from where the listing ended, and find nothing.
  const end = listing ? forgetListed(wire, listing) : undefined;
  if (end !== undefined) await wire.call(Opcode.READDIR, nodeid, readIn(4096, end));
  await wire.call(Opcode.READDIR, nodeid, readIn(4096));
  // A name that is not there (shells and loaders probe for many): the error path of the reply and the metrics.
  await wire.call(Opcode.LOOKUP, nodeid, Buffer.from(`.nydus-warm-up-${round}\0`));
  const ctx = { uid: 0, gid: 0, pid: process.pid };
  const all = (await fs.readdir!(ctx, nodeid, 0, 0, 4096)).filter((e) => !isDotOrDotDot(e.name));
  const from = all.length > 0 ? (round * CHILDREN) % all.length : 0;
  const entries = [...all.slice(from), ...all.slice(0, from)].slice(0, CHILDREN);
  let descended = false;
  for (const entry of entries) {
    const child = await lookUp(wire, nodeid, entry.name);
    if (child === undefined) continue;
    await wire.call(Opcode.GETATTR, child, Buffer.alloc(16));
    if (entry.type === DT_DIR && !descended && depth < MAX_DEPTH) {
      descended = true;
      await visit(fs, wire, child, depth + 1, round);
    }
    wire.forget(child);
  }
}

/**
 * Forgets the entries a READDIRPLUS reply sent with attributes, which count as lookups (nodeid 0: names only, not
 * counted), adds the names of its subdirectories (but "." and "..") to `subdirectories`, and returns the cookie
 * after its last record (undefined if it had none). A plain loop: the warm-up's own code gets hot too, and V8
 * took 23 ms to compile it as a generator, time its compiler thread then lacked for the request path.
 */
function forgetListed(wire: WarmUpWire, reply: Buffer, subdirectories?: Buffer[]): number | undefined {
  if (reply.readInt32LE(4) !== 0) return undefined;
  let end: number | undefined;
  for (let off = OUT_HEADER_SIZE; off + ENTRY_OUT_SIZE + 24 <= reply.length;) {
    const nodeid = readU64(reply, off);
    if (nodeid !== 0) wire.forget(nodeid);
    const dirent = off + ENTRY_OUT_SIZE;
    end = readU64(reply, dirent + 8);
    const nameLength = reply.readUInt32LE(dirent + 16);
    if (subdirectories && reply.readUInt32LE(dirent + 20) === DT_DIR) {
      const name = reply.subarray(dirent + 24, dirent + 24 + nameLength);
      if (!isDotOrDotDot(name)) subdirectories.push(name);
    }
    off += direntSize(nameLength, true);
  }
  return end;
}

/** LOOKUP of `name` in `parent`: the nodeid found (one lookup the caller forgets), or undefined. */
async function lookUp(wire: WarmUpWire, parent: number, name: Buffer): Promise<number | undefined> {
  const reply = await wire.call(Opcode.LOOKUP, parent, Buffer.concat([name, Buffer.alloc(1)]));
  if (!reply || reply.length < OUT_HEADER_SIZE + 8 || reply.readInt32LE(4) !== 0) return undefined;
  return readU64(reply, OUT_HEADER_SIZE);
}

/** fuse_read_in for a listing from `offset` (0: the start): fh 0, `size` bytes. */
function readIn(size: number, offset = 0): Buffer {
  const b = Buffer.alloc(READ_IN_SIZE);
  writeU64(b, 8, offset);
  b.writeUInt32LE(size, 16);
  return b;
}

/** Requests in, replies out, through a Dispatcher that no kernel is attached to. */
class WarmUpWire {
  served = 0;
  private unique = 1n;
  private readonly waiting = new Map<bigint, (reply: Buffer) => void>();
  private readonly dispatcher: Dispatcher;

  constructor(fs: RoutedFileSystem, private readonly deadline: number, private readonly stopWhen?: () => boolean) {
    const init = negotiate({ major: FUSE_KERNEL_VERSION, minor: FUSE_KERNEL_MINOR_VERSION, maxReadahead: 1 << 17, flags: 0xffffffff, flags2: 0 });
    this.dispatcher = new Dispatcher({
      fs,
      instanceOf: instanceRouting(fs),
      init: init.state,
      log: createLogger('warm-up'),
      write: (pieces) => {
        const reply = Buffer.concat(pieces);
        this.waiting.get(reply.readBigUInt64LE(8))?.(reply);
        return reply.length;
      },
    });
  }

  get expired(): boolean {
    return performance.now() > this.deadline || (this.stopWhen?.() ?? false);
  }

  /**
   * Sends one request; resolves with its reply, or with undefined once the time is up (then without sending it)
   * or after a second without a reply (which a healthy image never takes).
   */
  async call(opcode: number, nodeid: number, body: Buffer): Promise<Buffer | undefined> {
    if (this.stopWhen) await new Promise((resolve) => setImmediate(resolve));
    return this.send(opcode, nodeid, body);
  }

  private send(opcode: number, nodeid: number, body: Buffer): Promise<Buffer | undefined> {
    if (this.expired) return Promise.resolve(undefined);
    const unique = this.unique++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), 1000);
      const settle = (reply: Buffer | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(unique);
        this.served++;
        resolve(reply);
      };
      this.waiting.set(unique, settle);
      this.dispatcher.dispatch(this.message(opcode, nodeid, unique, body));
    });
  }

  /** FORGET has no reply. */
  forget(nodeid: number): void {
    const body = Buffer.alloc(8);
    body[0] = 1;
    this.dispatcher.dispatch(this.message(Opcode.FORGET, nodeid, this.unique++, body));
    this.served++;
  }

  private message(opcode: number, nodeid: number, unique: bigint, body: Buffer): Buffer {
    const msg = Buffer.alloc(IN_HEADER_SIZE + body.length);
    encodeInHeader(msg, opcode, unique, nodeid, process.pid);
    body.copy(msg, IN_HEADER_SIZE);
    return msg;
  }
}
