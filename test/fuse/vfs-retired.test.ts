/**
 * An instance unmounted from a sub-path of an openless mount (an image at the root: the kernel sends no OPEN, so
 * open files are not seen) leaves the namespace but stays `retired`, serving the nodes the kernel still holds,
 * until FORGETs have returned every entry it handed out; then onRetiredDrained hands it over to be destroyed.
 * Elsewhere an unmounted instance goes at once, as before. The kernel-facing side is in
 * test/service/nydusd-openless.test.ts.
 */
import test from 'ava';
import type { Attr, Entry, FileSystem, RequestContext } from '../../daemon/src/fs/filesystem';
import { Instance, Vfs } from '../../daemon/src/vfs/vfs';

const ctx: RequestContext = { uid: 0, gid: 0, pid: 0, umask: 0 } as RequestContext;

function attr(ino: number, mode: number): Attr {
  return { ino, size: 0, blocks: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0, ctimeSec: 0, ctimeNsec: 0,
    mode, nlink: 1, uid: 0, gid: 0, rdev: 0, blksize: 4096 };
}

/** A read-only image-like filesystem: the root (1) holds "f" (nodeid 2); counts what it is asked to forget. */
function image(openless: boolean): FileSystem & { forgotten: number } {
  return {
    openless,
    forgotten: 0,
    lookup(_ctx, parent, name): Entry {
      if (parent !== 1 || name.toString() !== 'f') throw Object.assign(new Error('ENOENT'), { errno: 2 });
      return { nodeid: 2, generation: 0, attr: attr(2, 0o100644), entryTimeout: 60, attrTimeout: 60 };
    },
    forget(_nodeid, nlookup) { this.forgotten += nlookup; },
    getattr(_ctx, nodeid) { return { attr: attr(nodeid, nodeid === 1 ? 0o40755 : 0o100644), attrTimeout: 60 }; },
  } as FileSystem & { forgotten: number };
}

async function entry(vfs: Vfs, parent: number, name: string): Promise<Entry> {
  return vfs.lookup(ctx, parent, Buffer.from(name));
}

test('on an openless mount, a sub-path image the kernel still holds nodes of is retired until FORGETs return them all', async (t) => {
  const vfs = new Vfs();
  const drained: Instance[] = [];
  vfs.onRetiredDrained = (inst) => drained.push(inst);
  vfs.mount('/', image(true), { fsType: 'rafs', source: 'root', config: '', prefetchFiles: [] });
  const sub = image(true);
  vfs.mount('/sub', sub, { fsType: 'rafs', source: 'sub', config: '', prefetchFiles: [] });
  t.true(vfs.openless);

  const subRoot = await entry(vfs, 1, 'sub'); // the instance's root: one reference
  const f = await entry(vfs, subRoot.nodeid, 'f'); // and its file, looked up twice
  await entry(vfs, subRoot.nodeid, 'f');
  t.is(vfs.list().find((i) => i.mountpoint === '/sub')?.kernelRefs, 3);

  vfs.umount('/sub');
  t.deepEqual(vfs.list().map((i) => i.mountpoint), ['/'], 'out of the namespace');
  t.deepEqual(vfs.retired().map((i) => i.mountpoint), ['/sub']);
  await t.throwsAsync(async () => entry(vfs, 1, 'sub'), undefined, 'no longer found by name');
  t.is((await vfs.getattr(ctx, f.nodeid, undefined)).attr.mode, 0o100644, 'the nodes held are still served');
  t.true(vfs.exportState().instances.some((i) => i.mountpoint === '/sub' && i.retired === true && i.kernelRefs === 3),
    'a successor gets it too');

  // The same path may be mounted again meanwhile: a new instance, its own nodeids.
  vfs.mount('/sub', image(true), { fsType: 'rafs', source: 'again', config: '', prefetchFiles: [] });
  const again = await entry(vfs, 1, 'sub');
  t.not(again.nodeid, subRoot.nodeid);

  vfs.forget(f.nodeid, 2);
  t.is(drained.length, 0, 'the root of it is still held');
  t.is(sub.forgotten, 2);
  vfs.forget(subRoot.nodeid, 1);
  t.deepEqual(drained.map((i) => i.info.source), ['sub'], 'handed over once the last reference is forgotten');
  t.deepEqual(vfs.retired(), []);
  await t.throwsAsync(async () => vfs.getattr(ctx, f.nodeid, undefined), { message: /no longer mounted/ });
  vfs.forget(f.nodeid, 1); // a stray FORGET changes nothing
  t.is(drained.length, 1);
});

test('a sub-path image nothing of which the kernel holds, or one on a mount whose files are opened, goes at once', async (t) => {
  for (const openFiles of [false, true]) {
    const vfs = new Vfs({ openFiles });
    const drained: Instance[] = [];
    vfs.onRetiredDrained = (inst) => drained.push(inst);
    vfs.mount('/', image(true), { fsType: 'rafs', source: 'root', config: '', prefetchFiles: [] });
    vfs.mount('/a', image(true), { fsType: 'rafs', source: 'a', config: '', prefetchFiles: [] });
    vfs.mount('/b', image(true), { fsType: 'rafs', source: 'b', config: '', prefetchFiles: [] });
    const a = await entry(vfs, 1, 'a');
    vfs.forget(a.nodeid, 1);
    const b = await entry(vfs, 1, 'b');
    vfs.umount('/a'); // looked up and forgotten: nothing held
    vfs.umount('/b'); // held, but open files would be seen here (OPEN), and none are
    t.is(vfs.openless, !openFiles);
    t.deepEqual(vfs.retired().map((i) => i.mountpoint), openFiles ? [] : ['/b']);
    t.deepEqual(vfs.list().map((i) => i.mountpoint), ['/']);
    vfs.forget(b.nodeid, 1);
    t.is(drained.length, openFiles ? 0 : 1);
  }
});
