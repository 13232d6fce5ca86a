/**
 * The VFS: several filesystem instances (rafs, passthrough_fs) under one FUSE mount, each at its own path
 * ("/" or a sub-path such as "/sub" or "/a/b"). It implements FileSystem itself: every call is routed to the
 * instance owning the nodeid, with nodeids and st_ino translated (see nodeid-space.ts). Mount indexes grow
 * and are never reused, so a nodeid the kernel still holds can never reach a different instance's files.
 * Unmounting an instance that has open files is refused with EBUSY, as the kernel does (directories are
 * listed without handles: see readdir()). Once an image serves the root, the mount runs without OPEN
 * (`openless`): from then on only instances that need no OPEN (rafs) may join it, and open files are no longer
 * seen. An image unmounted from a sub-path of such a mount then leaves the namespace at once, but stays
 * `retired`, still serving the nodes the kernel holds (an open file, a working directory), until the kernel has
 * forgotten them all: each instance counts the entries it handed out less those forgotten (`kernelRefs`).
 */
import { E, FsError } from '../fs/errno';
import { optionalOp } from '../fs/optional-op';
import type {
  Attr, AttrReply, BackingFiles, CreateReply, DirEntry, Entry, FileSystem, OpenReply, ReadExtents, RequestContext,
  SetattrIn, Statfs,
} from '../fs/filesystem';
import { NativeDirListing, NativeListings, withMountIds } from '../fs/native-listings';
import { globalIno, LOCAL_SPAN, MAX_INDEX, PSEUDO_INDEX, splitGlobal, toGlobal } from './nodeid-space';
import { PseudoFs } from './pseudo-fs';

export type FsType = 'rafs' | 'passthrough_fs';

export interface MountInfo {
  fsType: FsType;
  source: string;
  config: string;
  prefetchFiles: string[];
}

export interface Instance {
  index: number;
  mountpoint: string;
  parts: string[];
  fs: FileSystem;
  info: MountInfo;
  mountedTime: Date;
  openHandles: number;
  /** Entries of this instance the kernel holds: handed out (LOOKUP, READDIRPLUS, CREATE...) less FORGETs. */
  kernelRefs: number;
  /** Out of the namespace, still serving the nodes the kernel holds; released (onRetiredDrained) when none are left. */
  retired?: boolean;
  /** The instance's native listings as the mount numbers them, and what its filesystem gave (see nativeListings). */
  listings?: { own: NativeListings; mapped: NativeListings };
}

export interface VfsState {
  nextIndex: number;
  pseudo: ReturnType<PseudoFs['exportState']>;
  instances: Array<{ index: number; mountpoint: string; info: MountInfo; mountedTime: number; openHandles: number;
    kernelRefs: number; retired?: boolean }>;
}

export class VfsError extends Error {
  constructor(readonly code: 'AlreadyExists' | 'NotFound' | 'InvalidArguments' | 'Busy' | 'Exhausted', message: string) {
    super(message);
    this.name = 'VfsError';
  }
}

/** Pseudo entries after a root instance's own listing use cookies from here on. */
const PSEUDO_COOKIE_BASE = 2 ** 52;
const PSEUDO_TIMEOUT = 1;

type R<T> = T | Promise<T>;
function then<T, U>(r: R<T>, f: (v: T) => U): R<U> {
  return r instanceof Promise ? r.then(f) : f(r as T);
}

export function parseMountpoint(mountpoint: string): string[] {
  if (typeof mountpoint !== 'string' || !mountpoint.startsWith('/')) {
    throw new VfsError('InvalidArguments', `mountpoint must be an absolute path inside the mount, got "${mountpoint}"`);
  }
  const parts = mountpoint.split('/').filter((p) => p.length > 0);
  for (const p of parts) {
    if (p === '.' || p === '..' || Buffer.byteLength(p) > 255) {
      throw new VfsError('InvalidArguments', `mountpoint "${mountpoint}" has an invalid component "${p}"`);
    }
  }
  return parts;
}

export class Vfs implements FileSystem {
  private readonly instances = new Map<number, Instance>();
  private readonly pseudo = new PseudoFs();
  private nextIndex = 1;
  private rootIndex: number | undefined;
  private backingFiles: BackingFiles | undefined;
  /** Told when a name disappears from a directory the kernel may have cached (after umount). */
  onInvalidate?: (parent: number, name: Buffer) => void;
  /** Told when the kernel has forgotten the last node of a retired instance: its filesystem may be destroyed. */
  onRetiredDrained?(inst: Instance): void;
  /** `openless` held once: it holds for good. */
  private openlessFixed = false;

  /**
   * `openFiles`: files are always opened (nydusd --writable), so that instances that need OPEN (passthrough_fs)
   * may join whatever serves the root; `openless` then never holds.
   */
  constructor(private readonly opts: { openFiles?: boolean } = {}) {}

  /**
   * True from the moment an instance that needs no OPEN serves the root while every other one needs none either,
   * and from then on for good: the server answers OPEN with ENOSYS, and the kernel then never sends another on
   * this connection.
   */
  get openless(): boolean {
    if (this.openlessFixed || this.opts.openFiles) return this.openlessFixed;
    const root = this.rootIndex === undefined ? undefined : this.instances.get(this.rootIndex);
    this.openlessFixed = root?.fs.openless === true && [...this.instances.values()].every((i) => i.fs.openless);
    return this.openlessFixed;
  }

  mount(mountpoint: string, fs: FileSystem, info: MountInfo): number {
    const parts = parseMountpoint(mountpoint);
    const canonical = '/' + parts.join('/');
    if (!fs.openless && this.openless) {
      throw new VfsError('InvalidArguments', `cannot mount ${info.fsType} at ${canonical}: an image serves this mount's root, ` +
        'so its files are read without OPEN, which only rafs instances can do (start nydusd with --writable to let others join)');
    }
    for (const inst of this.instances.values()) {
      if (inst.mountpoint === canonical && !inst.retired) throw new VfsError('AlreadyExists', `${canonical} is already mounted`);
    }
    if (parts.length > 0) {
      const parent = this.pseudo.find(parts.slice(0, -1));
      const last = parts[parts.length - 1];
      if (parent?.dirs.has(last)) throw new VfsError('AlreadyExists', `${canonical} holds other mounts below it`);
    }
    if (this.nextIndex > MAX_INDEX) throw new VfsError('Exhausted', 'all mount indexes have been used');
    const index = this.nextIndex++;
    const inst: Instance = { index, mountpoint: canonical, parts, fs, info, mountedTime: new Date(), openHandles: 0, kernelRefs: 0 };
    this.attach(inst);
    return index;
  }

  /**
   * Takes the instance at `mountpoint` out of the namespace. It is `retired` instead of gone when the mount is
   * openless (open files unseen), it sits at a sub-path and the kernel still holds nodes of it: the caller then
   * leaves its filesystem alone, and onRetiredDrained hands it over once the kernel has forgotten them.
   */
  umount(mountpoint: string): Instance {
    const canonical = '/' + parseMountpoint(mountpoint).join('/');
    const inst = [...this.instances.values()].find((i) => i.mountpoint === canonical && !i.retired);
    if (!inst) throw new VfsError('NotFound', `nothing is mounted at ${canonical}`);
    if (inst.openHandles > 0) {
      throw new VfsError('Busy', `${canonical} is busy: ${inst.openHandles} open files or directories`);
    }
    if (this.openless && inst.parts.length > 0 && inst.kernelRefs > 0) inst.retired = true;
    else this.instances.delete(inst.index);
    if (inst.parts.length === 0) {
      this.rootIndex = undefined;
    } else {
      const parent = this.pseudo.find(inst.parts.slice(0, -1));
      const name = inst.parts[inst.parts.length - 1];
      parent?.mounts.delete(name);
      if (parent) {
        this.onInvalidate?.(parent.nodeid, Buffer.from(name));
        this.pseudo.prune(parent);
      }
    }
    return inst;
  }

  /** The instances in the namespace, by index (retired ones aside). */
  list(): Instance[] {
    return [...this.instances.values()].filter((i) => !i.retired).sort((a, b) => a.index - b.index);
  }

  /** Unmounted instances still serving nodes the kernel holds. */
  retired(): Instance[] {
    return [...this.instances.values()].filter((i) => i.retired).sort((a, b) => a.index - b.index);
  }

  instanceOf(nodeid: number): number {
    return splitGlobal(nodeid, this.rootIndex).index;
  }

  /** Serializable description of the namespace, for a successor daemon. */
  exportState(): VfsState {
    return {
      nextIndex: this.nextIndex,
      pseudo: this.pseudo.exportState(),
      instances: [...this.list(), ...this.retired()].map((i) => ({ index: i.index, mountpoint: i.mountpoint, info: i.info,
        mountedTime: i.mountedTime.getTime(), openHandles: i.openHandles, kernelRefs: i.kernelRefs, retired: i.retired })),
    };
  }

  /** A new Vfs holding the namespace of exportState() output and the reopened instances' filesystems. */
  static restore(state: VfsState, fsByIndex: Map<number, FileSystem>): Vfs {
    const vfs = new Vfs();
    vfs.restoreState(state, fsByIndex);
    return vfs;
  }

  /**
   * Replaces this (empty) Vfs's namespace with exportState() output, in place, so that whoever already holds
   * this object (the daemon, its onInvalidate hook) keeps it.
   */
  restoreState(state: VfsState, fsByIndex: Map<number, FileSystem>): void {
    if (this.instances.size > 0) throw new VfsError('AlreadyExists', 'cannot restore into a VFS that has mounts');
    for (const i of state.instances) {
      if (!fsByIndex.has(i.index)) throw new VfsError('NotFound', `no filesystem given for instance ${i.index} at ${i.mountpoint}`);
    }
    this.pseudo.restoreState(state.pseudo);
    this.nextIndex = state.nextIndex;
    for (const i of state.instances) {
      const inst: Instance = { index: i.index, mountpoint: i.mountpoint, parts: parseMountpoint(i.mountpoint), fs: fsByIndex.get(i.index)!,
        info: i.info, mountedTime: new Date(i.mountedTime), openHandles: i.openHandles, kernelRefs: i.kernelRefs, retired: i.retired || undefined };
      if (inst.retired) this.instances.set(inst.index, inst);
      else this.attach(inst);
    }
  }

  private attach(inst: Instance): void {
    if (inst.parts.length === 0) {
      this.rootIndex = inst.index;
    } else {
      const parent = this.pseudo.ensureDir(inst.parts.slice(0, -1));
      parent.mounts.set(inst.parts[inst.parts.length - 1], inst.index);
    }
    this.instances.set(inst.index, inst);
    inst.fs.useBackingFiles?.(this.backingFiles);
  }

  readFds(): Array<{ nodeid: number; fh: number; fd: number }> {
    return [...this.instances.values()].flatMap((inst) => (inst.fs.readFds?.() ?? [])
      .map((h) => ({ ...h, nodeid: toGlobal(inst.index, h.nodeid, this.rootIndex) })));
  }

  /** Kernel passthrough goes to every instance, also to those mounted later. */
  useBackingFiles(backing: BackingFiles | undefined): void {
    this.backingFiles = backing;
    for (const inst of this.instances.values()) inst.fs.useBackingFiles?.(backing);
  }

  // ---- routing helpers ----

  private route(nodeid: number): { inst: Instance | undefined; local: number } {
    const { index, local } = splitGlobal(nodeid, this.rootIndex);
    if (index === PSEUDO_INDEX) {
      if (!this.pseudo.has(local)) throw new FsError(E.ESTALE);
      return { inst: undefined, local };
    }
    const inst = this.instances.get(index);
    if (!inst) throw new FsError(E.ESTALE, `instance ${index} is no longer mounted`);
    return { inst, local };
  }

  private routeInstance(nodeid: number): { inst: Instance; local: number } {
    const r = this.route(nodeid);
    if (!r.inst) throw new FsError(E.EPERM);
    return { inst: r.inst, local: r.local };
  }

  private mapAttr(inst: Instance, a: Attr): Attr {
    const ino = globalIno(inst.index, a.ino, this.rootIndex);
    return ino === a.ino ? a : { ...a, ino };
  }

  private mapEntry(inst: Instance, e: Entry): Entry {
    if (e.nodeid === 0) return e;
    return { ...e, nodeid: toGlobal(inst.index, e.nodeid, this.rootIndex), attr: this.mapAttr(inst, e.attr) };
  }

  /** mapEntry() of an entry about to be handed to the kernel, which then holds one more reference to its node. */
  private handOut(inst: Instance, e: Entry): Entry {
    if (e.nodeid !== 0) inst.kernelRefs++;
    return this.mapEntry(inst, e);
  }

  private sameInstance(a: number, b: number): { inst: Instance; la: number; lb: number } {
    const ra = this.routeInstance(a);
    const rb = this.routeInstance(b);
    if (ra.inst !== rb.inst) throw new FsError(E.EXDEV);
    return { inst: ra.inst, la: ra.local, lb: rb.local };
  }

  private pseudoEntry(nodeid: number): Entry {
    return { nodeid, generation: 0, attr: this.pseudo.attr(nodeid), entryTimeout: PSEUDO_TIMEOUT, attrTimeout: PSEUDO_TIMEOUT };
  }

  /** A pseudo child of `parent` (a pseudo dir, or the root even when an instance is mounted there). */
  private pseudoChild(ctx: RequestContext, parent: number, name: Buffer): R<Entry> | undefined {
    const isPseudoDir = parent === 1 || splitGlobal(parent, this.rootIndex).index === PSEUDO_INDEX;
    if (!isPseudoDir || !this.pseudo.has(parent)) return undefined;
    const pnode = this.pseudo.get(parent);
    const key = name.toString();
    const dir = pnode.dirs.get(key);
    if (dir !== undefined) return this.pseudoEntry(dir);
    const index = pnode.mounts.get(key);
    if (index === undefined) return undefined;
    const inst = this.instances.get(index)!;
    return then(inst.fs.getattr(ctx, 1, undefined), (a) => this.handOut(inst, {
      nodeid: 1, generation: 0, attr: a.attr, entryTimeout: a.attrTimeout, attrTimeout: a.attrTimeout,
    }));
  }

  // ---- FileSystem ----

  lookup(ctx: RequestContext, parent: number, name: Buffer): R<Entry> {
    const pseudo = this.pseudoChild(ctx, parent, name);
    if (pseudo) return pseudo;
    const { inst, local } = this.route(parent);
    if (!inst) throw new FsError(E.ENOENT);
    return then(inst.fs.lookup(ctx, local, name), (e) => this.handOut(inst, e));
  }

  nodeKey(nodeid: number): string | undefined {
    const { index, local } = splitGlobal(nodeid, this.rootIndex);
    const inst = this.instances.get(index);
    if (!inst) return index === PSEUDO_INDEX ? `pseudo:${local}` : undefined;
    const key = inst.fs.nodeKey ? inst.fs.nodeKey(local) : String(local);
    return key === undefined ? undefined : `${inst.index}:${key}`;
  }

  forget(nodeid: number, nlookup: number): void {
    const { index, local } = splitGlobal(nodeid, this.rootIndex);
    const inst = this.instances.get(index);
    if (!inst) return;
    if (local !== 1) inst.fs.forget(local, nlookup);
    inst.kernelRefs = Math.max(0, inst.kernelRefs - nlookup);
    if (inst.retired && inst.kernelRefs === 0) {
      this.instances.delete(index);
      this.onRetiredDrained?.(inst);
    }
  }

  getattr(ctx: RequestContext, nodeid: number, fh: number | undefined): R<AttrReply> {
    const { inst, local } = this.route(nodeid);
    if (!inst) return { attr: this.pseudo.attr(local), attrTimeout: PSEUDO_TIMEOUT };
    return then(inst.fs.getattr(ctx, local, fh), (a) => ({ attr: this.mapAttr(inst, a.attr), attrTimeout: a.attrTimeout }));
  }

  setattr(ctx: RequestContext, nodeid: number, attr: SetattrIn): R<AttrReply> {
    const { inst, local } = this.routeInstance(nodeid);
    return then(call(inst.fs, 'setattr')(ctx, local, attr), (a) => ({ attr: this.mapAttr(inst, a.attr), attrTimeout: a.attrTimeout }));
  }

  readlink(ctx: RequestContext, nodeid: number): R<Buffer> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'readlink')(ctx, local);
  }

  symlink(ctx: RequestContext, parent: number, name: Buffer, target: Buffer): R<Entry> {
    const { inst, local } = this.routeInstance(parent);
    return then(call(inst.fs, 'symlink')(ctx, local, name, target), (e) => this.handOut(inst, e));
  }

  mknod(ctx: RequestContext, parent: number, name: Buffer, mode: number, rdev: number, umask: number): R<Entry> {
    const { inst, local } = this.routeInstance(parent);
    return then(call(inst.fs, 'mknod')(ctx, local, name, mode, rdev, umask), (e) => this.handOut(inst, e));
  }

  mkdir(ctx: RequestContext, parent: number, name: Buffer, mode: number, umask: number): R<Entry> {
    const { inst, local } = this.routeInstance(parent);
    return then(call(inst.fs, 'mkdir')(ctx, local, name, mode, umask), (e) => this.handOut(inst, e));
  }

  unlink(ctx: RequestContext, parent: number, name: Buffer): R<void> {
    const { inst, local } = this.routeInstance(parent);
    return call(inst.fs, 'unlink')(ctx, local, name);
  }

  rmdir(ctx: RequestContext, parent: number, name: Buffer): R<void> {
    const { inst, local } = this.routeInstance(parent);
    return call(inst.fs, 'rmdir')(ctx, local, name);
  }

  rename(ctx: RequestContext, parent: number, name: Buffer, newParent: number, newName: Buffer, flags: number): R<void> {
    const { inst, la, lb } = this.sameInstance(parent, newParent);
    return call(inst.fs, 'rename')(ctx, la, name, lb, newName, flags);
  }

  link(ctx: RequestContext, nodeid: number, newParent: number, newName: Buffer): R<Entry> {
    const { inst, la, lb } = this.sameInstance(nodeid, newParent);
    return then(call(inst.fs, 'link')(ctx, la, lb, newName), (e) => this.handOut(inst, e));
  }

  open(ctx: RequestContext, nodeid: number, flags: number): R<OpenReply> {
    const { inst, local } = this.routeInstance(nodeid);
    return then(call(inst.fs, 'open')(ctx, local, flags), (o) => { inst.openHandles++; return o; });
  }

  create(ctx: RequestContext, parent: number, name: Buffer, mode: number, flags: number, umask: number): R<CreateReply> {
    const { inst, local } = this.routeInstance(parent);
    return then(call(inst.fs, 'create')(ctx, local, name, mode, flags, umask), (c) => {
      inst.openHandles++;
      return { entry: this.handOut(inst, c.entry), open: c.open };
    });
  }

  /** async: a nodeid that routes nowhere rejects, as the filesystems' own lookups do. */
  async readExtents(nodeid: number): Promise<ReadExtents | undefined> {
    const { inst, local } = this.routeInstance(nodeid);
    return inst.fs.readExtents?.(local);
  }

  read(ctx: RequestContext, nodeid: number, fh: number, offset: number, size: number): R<Buffer> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'read')(ctx, local, fh, offset, size);
  }

  write(ctx: RequestContext, nodeid: number, fh: number, offset: number, data: Buffer, writeFlags: number): R<number> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'write')(ctx, local, fh, offset, data, writeFlags);
  }

  flush(ctx: RequestContext, nodeid: number, fh: number, lockOwner: bigint): R<void> {
    const { inst, local } = this.routeInstance(nodeid);
    return inst.fs.flush ? inst.fs.flush(ctx, local, fh, lockOwner) : undefined;
  }

  release(ctx: RequestContext, nodeid: number, fh: number, flags: number): R<void> {
    const { inst, local } = this.routeInstance(nodeid);
    inst.openHandles = Math.max(0, inst.openHandles - 1);
    return inst.fs.release ? inst.fs.release(ctx, local, fh, flags) : undefined;
  }

  fsync(ctx: RequestContext, nodeid: number, fh: number, datasync: boolean): R<void> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'fsync')(ctx, local, fh, datasync);
  }

  lseek(ctx: RequestContext, nodeid: number, fh: number, offset: number, whence: number): R<number> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'lseek')(ctx, local, fh, offset, whence);
  }

  fallocate(ctx: RequestContext, nodeid: number, fh: number, mode: number, offset: number, length: number): R<void> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'fallocate')(ctx, local, fh, mode, offset, length);
  }

  copyFileRange(ctx: RequestContext, nodeidIn: number, fhIn: number, offIn: number, nodeidOut: number, fhOut: number,
    offOut: number, len: number, flags: number): R<number> {
    const { inst, la, lb } = this.sameInstance(nodeidIn, nodeidOut);
    return call(inst.fs, 'copyFileRange')(ctx, la, fhIn, offIn, lb, fhOut, offOut, len, flags);
  }

  // No opendir(): the server answers OPENDIR with ENOSYS, after which the kernel sends no OPENDIR or RELEASEDIR on
  // this connection and caches listings itself (FUSE_NO_OPENDIR_SUPPORT). Every backend lists a directory by its
  // nodeid with fh 0; directory handles exist only when a predecessor daemon's state carried them.

  readdir(ctx: RequestContext, nodeid: number, fh: number, offset: number, size: number): R<DirEntry[]> {
    const { inst, local } = this.route(nodeid);
    if (!inst) return this.pseudo.entries(local, 0, true).filter((e) => e.nextOffset > offset);
    const extra = nodeid === 1 ? this.pseudo.entries(1, PSEUDO_COOKIE_BASE, false) : [];
    if (offset >= PSEUDO_COOKIE_BASE) return extra.filter((e) => e.nextOffset > offset);
    return then(call(inst.fs, 'readdir')(ctx, local, fh, offset, size), (entries) => {
      if (entries.length === 0) return extra;
      return entries.map((e) => {
        const ino = globalIno(inst.index, e.ino, this.rootIndex);
        return ino === e.ino ? e : { ...e, ino };
      });
    });
  }

  /** Never for the pseudo directories, nor for the root while instances are mounted below it (it lists them). */
  nativeListings(nodeid: number): NativeListings | undefined {
    const { index, local } = splitGlobal(nodeid, this.rootIndex);
    const inst = this.instances.get(index);
    const own = inst?.fs.nativeListings?.(local);
    if (!inst || !own || this.rootListsInstances(nodeid)) return undefined;
    if (inst.listings?.own !== own) {
      const mapped = withMountIds(own, index * LOCAL_SPAN, index === this.rootIndex, globalIno(index, 0, this.rootIndex));
      mapped.handedOut = (count) => { inst.kernelRefs += count; };
      inst.listings = { own, mapped };
    }
    return inst.listings.mapped;
  }

  /**
   * Only for the instance at the mount's root, whose nodeids and inode numbers are its own, and never for the root
   * while instances are mounted below it (it lists them).
   */
  nativeDirListing(nodeid: number): NativeDirListing | undefined {
    const { index, local } = splitGlobal(nodeid, this.rootIndex);
    if (index !== this.rootIndex) return undefined;
    const inst = this.instances.get(index);
    if (!inst?.fs.nativeDirListing || this.rootListsInstances(nodeid)) return undefined;
    return inst.fs.nativeDirListing(local);
  }

  /** `nodeid` is the mount's root and lists the instances (or pseudo directories) below it with its own entries. */
  private rootListsInstances(nodeid: number): boolean {
    if (nodeid !== 1) return false;
    const root = this.pseudo.get(1);
    return root.dirs.size > 0 || root.mounts.size > 0;
  }

  readdirplusEntry(ctx: RequestContext, parent: number, e: DirEntry): R<Entry> {
    const { inst, local } = this.route(parent);
    if (inst?.fs.readdirplusEntry && e.handle !== undefined && !(parent === 1 && this.pseudo.get(1).mounts.has(e.name.toString()))) {
      return then(inst.fs.readdirplusEntry(ctx, local, e), (entry) => this.handOut(inst, entry));
    }
    return this.lookup(ctx, parent, e.name);
  }

  entryAtHand(ctx: RequestContext, parent: number, e: DirEntry): Entry | undefined {
    const { inst, local } = this.route(parent);
    if (!inst?.fs.entryAtHand || (parent === 1 && this.pseudo.get(1).mounts.has(e.name.toString()))) {
      return undefined;
    }
    const entry = inst.fs.entryAtHand(ctx, local, e);
    return entry && this.handOut(inst, entry);
  }

  releasedir(ctx: RequestContext, nodeid: number, fh: number): R<void> {
    const { inst, local } = this.route(nodeid);
    if (!inst || !inst.fs.opendir) return undefined;
    inst.openHandles = Math.max(0, inst.openHandles - 1);
    return inst.fs.releasedir ? inst.fs.releasedir(ctx, local, fh) : undefined;
  }

  fsyncdir(ctx: RequestContext, nodeid: number, fh: number, datasync: boolean): R<void> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'fsyncdir')(ctx, local, fh, datasync);
  }

  statfs(ctx: RequestContext, nodeid: number): R<Statfs> {
    const { inst, local } = this.route(nodeid);
    if (!inst || !inst.fs.statfs) {
      return { blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, bsize: 4096, namelen: 255, frsize: 4096 };
    }
    return inst.fs.statfs(ctx, local);
  }

  access(ctx: RequestContext, nodeid: number, mask: number): R<void> {
    const { inst, local } = this.route(nodeid);
    if (!inst) return undefined;
    return inst.fs.access ? inst.fs.access(ctx, local, mask) : undefined;
  }

  getxattr(ctx: RequestContext, nodeid: number, name: Buffer, size: number): R<Buffer | number> {
    const { inst, local } = this.route(nodeid);
    if (!inst) throw new FsError(E.ENODATA);
    return call(inst.fs, 'getxattr')(ctx, local, name, size);
  }

  listxattr(ctx: RequestContext, nodeid: number, size: number): R<Buffer | number> {
    const { inst, local } = this.route(nodeid);
    if (!inst) return size === 0 ? 0 : Buffer.alloc(0);
    return call(inst.fs, 'listxattr')(ctx, local, size);
  }

  setxattr(ctx: RequestContext, nodeid: number, name: Buffer, value: Buffer, flags: number): R<void> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'setxattr')(ctx, local, name, value, flags);
  }

  removexattr(ctx: RequestContext, nodeid: number, name: Buffer): R<void> {
    const { inst, local } = this.routeInstance(nodeid);
    return call(inst.fs, 'removexattr')(ctx, local, name);
  }
}

/** The instance's implementation of an optional op; a missing write-path op means a read-only instance. */
function call<K extends keyof FileSystem>(fs: FileSystem, op: K): NonNullable<FileSystem[K]> {
  return optionalOp(fs, op, op === 'setattr' || op === 'write' ? E.EROFS : E.ENOSYS);
}
