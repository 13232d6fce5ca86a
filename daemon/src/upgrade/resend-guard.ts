/**
 * Answers correctly a non-idempotent request that the kernel delivers again after a crash (FUSE_NOTIFY_RESEND)
 * although the dead daemon had already carried it out: mkdir/mknod/symlink/link/create would fail with EEXIST,
 * unlink/rmdir/rename with ENOENT. Before each such call the daemon records an intent (operation, parent,
 * name) in the result journal and marks it done once the reply is out. A successor takes the intents its
 * predecessor left open (it died during them, or before their replies were written) and, when the same operation
 * on the same name fails that way, answers as the first execution would have: the entry (looked up, and for
 * create opened), or success. Each open intent is used once. The dispatcher does not tell the filesystem the
 * request's unique, so requests are matched by operation and name; a dispatcher-level journal keyed by unique
 * (journal.ts) would be exact.
 */
import { createHash } from 'crypto';
import { E, FsError, errnoOf } from '../fs/errno';
import type { CreateReply, Entry, FileSystem, RequestContext } from '../fs/filesystem';
import { JournalPhase, ResultJournal } from './journal';

type Method = (...args: unknown[]) => unknown;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;

/** Per operation: its journal opcode, the (parent, name) it acts on, and the errno a repeat fails with. */
const GUARDED: Record<string, { opcode: number; key: (args: unknown[]) => [number, Buffer]; repeatErrno: number }> = {
  mknod: { opcode: 8, key: (a) => [a[1] as number, a[2] as Buffer], repeatErrno: E.EEXIST },
  mkdir: { opcode: 9, key: (a) => [a[1] as number, a[2] as Buffer], repeatErrno: E.EEXIST },
  symlink: { opcode: 6, key: (a) => [a[1] as number, a[2] as Buffer], repeatErrno: E.EEXIST },
  link: { opcode: 13, key: (a) => [a[2] as number, a[3] as Buffer], repeatErrno: E.EEXIST },
  create: { opcode: 35, key: (a) => [a[1] as number, a[2] as Buffer], repeatErrno: E.EEXIST },
  unlink: { opcode: 10, key: (a) => [a[1] as number, a[2] as Buffer], repeatErrno: E.ENOENT },
  rmdir: { opcode: 11, key: (a) => [a[1] as number, a[2] as Buffer], repeatErrno: E.ENOENT },
  rename: { opcode: 12, key: (a) => [a[1] as number, a[2] as Buffer], repeatErrno: E.ENOENT },
};

export function keyOf(opcode: number, parent: number, name: Buffer): bigint {
  const digest = createHash('sha256').update(`${opcode}:${parent}:`).update(name).digest();
  return digest.readBigUInt64LE(0) & ~(1n << 63n);
}

/**
 * Takes over the intents the predecessor left open in `journal` (it died while carrying them out): returns
 * them; retireIntents() closes them once resent requests have had their chance.
 */
export function takeOpenIntents(journal: ResultJournal): Set<bigint> {
  return new Set(journal.entries().filter((e) => e.phase === JournalPhase.Intent).map((e) => e.unique));
}

/**
 * Ends the window in which inherited intents may match resent requests: marks the ones no resend used as done
 * in the file and forgets them. Until then they stay open in the file, so that if this successor dies too
 * before the resent requests reach it, the next one inherits them again.
 */
export function retireIntents(journal: ResultJournal, inherited: Set<bigint>): void {
  for (const entry of journal.entries()) {
    if (entry.phase === JournalPhase.Intent && inherited.has(entry.unique)) {
      journal.complete(entry.unique, entry.opcode, entry.nodeid, Buffer.alloc(0));
    }
  }
  inherited.clear();
}

const INSTALLED = Symbol('nydus.handover.resend-guard');

/** Installs the guard on the VFS object the session serves (once). */
export function guardResends(vfs: object, journal: ResultJournal, inherited: Set<bigint>): void {
  const target = vfs as Record<string | symbol, unknown>;
  if (target[INSTALLED]) return;
  target[INSTALLED] = true;
  /** Per key, the latest call: an earlier call on the same name must not close the intent of a later one. */
  const latest = new Map<bigint, number>();
  let calls = 0;
  for (const [name, rule] of Object.entries(GUARDED)) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = async function guarded(this: unknown, ...args: unknown[]): Promise<unknown> {
      const [parent, entryName] = rule.key(args);
      const key = keyOf(rule.opcode, parent, entryName);
      const call = ++calls;
      latest.set(key, call);
      journal.begin(key, rule.opcode, parent, entryName);
      try {
        return await (original as Method).apply(this, args);
      } catch (err) {
        if (errnoOf(err) !== rule.repeatErrno || !inherited.delete(key)) throw err;
        return completeRepeat(vfs as FileSystem, name, args);
      } finally {
        // Closed after the reply is written (it goes out in this promise chain, before any setImmediate): a daemon
        // killed between the two leaves the intent open, so that a resent request is still recognised.
        setImmediate(() => {
          if (latest.get(key) !== call) return;
          latest.delete(key);
          journal.complete(key, rule.opcode, parent, Buffer.alloc(0));
        });
      }
    };
  }
}

/** What the first execution answered: the entry for a creation (opened again for create), nothing otherwise. */
async function completeRepeat(fs: FileSystem, op: string, args: unknown[]): Promise<Entry | CreateReply | undefined> {
  const ctx = args[0] as RequestContext;
  if (op === 'unlink' || op === 'rmdir' || op === 'rename') return undefined;
  const [parent, name] = op === 'link' ? [args[2] as number, args[3] as Buffer] : [args[1] as number, args[2] as Buffer];
  const entry = await fs.lookup(ctx, parent, name);
  if (op !== 'create') return entry;
  if (!fs.open) throw new FsError(E.ENOSYS);
  const flags = (args[4] as number) & ~(O_CREAT | O_EXCL | O_TRUNC);
  return { entry, open: await fs.open(ctx, entry.nodeid, flags) };
}
