/** On-disk structs of EROFS / RAFS v6: pure, bounds-checked decoders (no I/O). */
export * from './bytes';
export * from './superblock';
export * from './blob-table';
export * from './inode';
export * from './dirent';
export * from './xattr';
export * from './chunk';
export * from './toc';
