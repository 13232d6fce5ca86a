/**
 * How the VFS shares one FUSE nodeid space among filesystem instances: nodeid = index * 2^36 + local, where
 * `local` is the instance's own nodeid (< 2^36) and `index` is the instance's mount index (1..2^17, never
 * reused). Index 0 is the VFS's own pseudo directories. Nodeid 1 is the mount's root: the root of the
 * instance mounted at "/" when there is one, else the pseudo root.
 */
export const LOCAL_BITS = 36;
export const LOCAL_SPAN = 2 ** LOCAL_BITS;
/** Highest instance index that keeps nodeids below 2^53 (exact in a JS number). */
export const MAX_INDEX = 2 ** (53 - LOCAL_BITS) - 1;
export const PSEUDO_INDEX = 0;

export function toGlobal(index: number, local: number, rootIndex: number | undefined): number {
  if (local === 1 && index === rootIndex) return 1;
  return index * LOCAL_SPAN + local;
}

export function splitGlobal(nodeid: number, rootIndex: number | undefined): { index: number; local: number } {
  if (nodeid === 1) return { index: rootIndex ?? PSEUDO_INDEX, local: 1 };
  return { index: Math.floor(nodeid / LOCAL_SPAN), local: nodeid % LOCAL_SPAN };
}

/** st_ino as applications see it: the root instance keeps its own numbers (so they match the backing data). */
export function globalIno(index: number, ino: number, rootIndex: number | undefined): number {
  if (index === rootIndex || index === PSEUDO_INDEX || ino >= LOCAL_SPAN) return ino;
  return index * LOCAL_SPAN + ino;
}
