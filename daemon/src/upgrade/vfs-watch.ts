/**
 * Calls `changed()` after every filesystem call that can add or drop a nodeid or file handle the kernel knows
 * (lookup, create, open, release, forget, ...), once the call has produced its result and before the
 * dispatcher can write the reply: that is where the supervisor's copy of the tables must be brought up to date.
 * It wraps the methods on the one VFS object the session serves (instance properties; the class is untouched).
 * Forgets are coalesced to the next turn of the event loop: a late forget only keeps a node alive longer.
 * TODO(lead): replace with an explicit hook in the dispatcher (see the supervisor report).
 */
type Method = (...args: unknown[]) => unknown;

// Not readdir: listings hold no handle (see dir-listings.ts), and a restored directory handle is rewound to its
// start anyway (restore.ts), so its cursor position need not reach the supervisor.
const IMMEDIATE = ['lookup', 'symlink', 'mknod', 'mkdir', 'link', 'create', 'open', 'release', 'releasedir', 'unlink', 'rmdir', 'rename'];
const LATER = ['forget'];
const INSTALLED = Symbol('nydus.handover.watch');

export function watchVfs(vfs: object, changed: () => void): void {
  const target = vfs as Record<string | symbol, unknown>;
  if (target[INSTALLED]) return;
  target[INSTALLED] = true;
  let scheduled = false;
  const later = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      changed();
    });
  };
  for (const name of [...IMMEDIATE, ...LATER]) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    const after = LATER.includes(name) ? later : changed;
    target[name] = function watched(this: unknown, ...args: unknown[]): unknown {
      const result = (original as Method).apply(this, args);
      if (result instanceof Promise) {
        return result.then(
          (value) => {
            after();
            return value;
          },
          (err: unknown) => {
            after();
            throw err;
          },
        );
      }
      after();
      return result;
    };
  }
}
