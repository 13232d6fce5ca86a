/**
 * Nodeids are a pure function of the image's own inode numbering, so a successor daemon can serve the same
 * kernel without any saved table: the root is FUSE_ROOT_ID (1), every other inode is nid + 2 (never 1, and
 * below 2^36 because nids are capped at MAX_NID).
 */
import { E, FsError } from '../fs/errno';
import { FUSE_ROOT_ID } from '../fs/filesystem';
import { MAX_NID } from './meta/metadata';

export function nodeidOf(nid: number, rootNid: number): number {
  return nid === rootNid ? FUSE_ROOT_ID : nid + 2;
}

export function nidOf(nodeid: number, rootNid: number): number {
  if (nodeid === FUSE_ROOT_ID) return rootNid;
  if (!Number.isSafeInteger(nodeid) || nodeid < 2 || nodeid - 2 > MAX_NID) {
    throw new FsError(E.ESTALE, `nodeid ${nodeid} cannot belong to this image`);
  }
  return nodeid - 2;
}
