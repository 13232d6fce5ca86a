/**
 * Listings answered natively (daemon/native/src/erofs_listing.c): a filesystem whose directories live in a
 * metadata image held in memory (rafs: its bootstrap, mirrored as it is read) hands the image and a description
 * of it to the server, which answers READDIR and names-only READDIRPLUS with one native call, before any handler
 * runs; a request that needs a block not in memory yet goes to the handlers, which read it. The description is a
 * Float64Array laid out as `Conf` says; the VFS adds how the instance's numbers appear on the mount
 * (withMountIds).
 */
import type { DirCursorHandle } from '../native';

export interface NativeListings {
  image: Buffer;
  /** 1 for each block of the image that is in memory (Conf.PresenceBlock bytes each); undefined: all are. */
  present?: Uint8Array;
  conf: Float64Array;
  /** A reply packed from these handed the kernel `count` entries (subdirectories with their entry filled in). */
  handedOut?: (count: number) => void;
}

/**
 * passthrough_fs: the host cursor of a directory's listing (native/src/dir_cursor.c), which READDIR and names-only
 * READDIRPLUS may be answered from natively, before any handler runs.
 */
export interface NativeDirListing {
  cursor: DirCursorHandle;
  /** A reply sent from the cursor was the end of the listing: the backend closes it. */
  ended(): void;
}

/** The description's fields, in the order erofs_listing.c reads them. */
export enum Conf {
  BlockSize, MetaBlkaddr, RootNid, BuildTime, BuildTimeNsec, EntryTimeout, AttrTimeout,
  /** nodeid = NodeBase + local (local: nid + 2, the image's root 1), but the root is 1 when RootIsOne is 1. */
  NodeBase, RootIsOne,
  /** st_ino = InoBase + nid. */
  InoBase,
  /** The size of the blocks NativeListings.present counts. */
  PresenceBlock,
  Length,
}

export interface ImageFacts {
  blockSize: number;
  metaBlkaddr: number;
  rootNid: number;
  buildTime: number;
  buildTimeNsec: number;
  entryTimeout: number;
  attrTimeout: number;
  presenceBlock: number;
}

/** A description with the image's own numbers (its root is nodeid 1, nothing added). */
export function listingConf(f: ImageFacts): Float64Array {
  const conf = new Float64Array(Conf.Length);
  conf[Conf.BlockSize] = f.blockSize;
  conf[Conf.MetaBlkaddr] = f.metaBlkaddr;
  conf[Conf.RootNid] = f.rootNid;
  conf[Conf.BuildTime] = f.buildTime;
  conf[Conf.BuildTimeNsec] = f.buildTimeNsec;
  conf[Conf.EntryTimeout] = f.entryTimeout;
  conf[Conf.AttrTimeout] = f.attrTimeout;
  conf[Conf.PresenceBlock] = f.presenceBlock;
  conf[Conf.RootIsOne] = 1;
  return conf;
}

/** The same image seen through the VFS: nodeids from `nodeBase` on, the root 1 or not, inode numbers shifted. */
export function withMountIds(l: NativeListings, nodeBase: number, rootIsOne: boolean, inoBase: number): NativeListings {
  const conf = Float64Array.from(l.conf);
  conf[Conf.NodeBase] = nodeBase;
  conf[Conf.RootIsOne] = rootIsOne ? 1 : 0;
  conf[Conf.InoBase] = inoBase;
  return { image: l.image, present: l.present, conf };
}
