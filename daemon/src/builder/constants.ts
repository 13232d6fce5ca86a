/**
 * Every on-disk number the builder writes: EROFS (kernel erofs_fs.h) and the RAFS v6 additions
 * (nydus rafs/src/metadata/layout/v6.rs, storage/src/meta). Byte offsets of structures live in the
 * encoders next to the code that fills them; this file holds the values and sizes only.
 */

export const BLOCK_SIZE = 4096;
export const BLOCK_BITS = 12;

export const EROFS_SUPER_OFFSET = 1024;
export const EROFS_SUPER_MAGIC = 0xe0f5e1e2;
export const EROFS_SUPER_SIZE = 128;
export const EROFS_FEATURE_COMPAT_RAFS_V6 = 0x40000000;
export const EROFS_FEATURE_INCOMPAT_CHUNKED_FILE = 0x4;
export const EROFS_FEATURE_INCOMPAT_DEVICE_TABLE = 0x8;

export const RAFS_EXT_SUPER_OFFSET = EROFS_SUPER_OFFSET + EROFS_SUPER_SIZE; // 1152
export const RAFS_EXT_SUPER_SIZE = 256;
export const DEVICE_SLOT_SIZE = 128;
export const DEVICE_TABLE_OFFSET = RAFS_EXT_SUPER_OFFSET + RAFS_EXT_SUPER_SIZE; // 1408
export const BLOB_TABLE_OFFSET = BLOCK_SIZE;
export const BLOB_TABLE_ENTRY_SIZE = 256;
export const CHUNK_INFO_SIZE = 80;

/** Inode cores. */
export const INODE_COMPACT_SIZE = 32;
export const INODE_EXTENDED_SIZE = 64;
export const INODE_SLOT_SIZE = 32;
export const LAYOUT_FLAT_PLAIN = 0;
export const LAYOUT_FLAT_INLINE = 2;
export const LAYOUT_CHUNK_BASED = 4;
/** i_u bit of a chunk-based inode: 8-byte chunk indexes. */
export const CHUNK_FORMAT_INDEXES = 0x20;
export const CHUNK_INDEX_SIZE = 8;
export const NULL_BLKADDR = 0xffffffff;

export const DIRENT_SIZE = 12;
export const FT_REG = 1;
export const FT_DIR = 2;
export const FT_CHRDEV = 3;
export const FT_BLKDEV = 4;
export const FT_FIFO = 5;
export const FT_SOCK = 6;
export const FT_SYMLINK = 7;

export const XATTR_IBODY_HEADER_SIZE = 12;
export const XATTR_ENTRY_HEADER_SIZE = 4;
/** Name prefixes in the order EROFS numbers them (index = position). */
export const XATTR_PREFIXES: ReadonlyArray<[number, string]> = [
  [2, 'system.posix_acl_access'],
  [3, 'system.posix_acl_default'],
  [1, 'user.'],
  [4, 'trusted.'],
  [6, 'security.'],
];

/** RafsSuperFlags in the ext superblock. */
export const RAFS_FLAG_COMPRESSION_NONE = 0x1n;
export const RAFS_FLAG_COMPRESSION_LZ4 = 0x2n;
export const RAFS_FLAG_COMPRESSION_ZSTD = 0x80n;
export const RAFS_FLAG_HASH_BLAKE3 = 0x4n;
export const RAFS_FLAG_HASH_SHA256 = 0x8n;
export const RAFS_FLAG_EXPLICIT_UID_GID = 0x10n;
export const RAFS_FLAG_HAS_XATTR = 0x20n;
export const RAFS_FLAG_INLINED_CHUNK_DIGEST = 0x100n;

/** compress::Algorithm and digest::Algorithm numbers in the blob table. */
export const BLOB_COMPRESSOR_NONE = 0;
export const BLOB_COMPRESSOR_LZ4_BLOCK = 1;
export const BLOB_COMPRESSOR_GZIP = 2;
export const BLOB_COMPRESSOR_ZSTD = 3;
export const BLOB_DIGESTER_BLAKE3 = 0;
export const BLOB_DIGESTER_SHA256 = 1;

/** BlobFeatures. */
export const BLOB_FEATURE_ALIGNED = 0x1;
export const BLOB_FEATURE_INLINED_FS_META = 0x2;
export const BLOB_FEATURE_INLINED_CHUNK_DIGEST = 0x20;
export const BLOB_FEATURE_HAS_TAR_HEADER = 0x10000000;
export const BLOB_FEATURE_HAS_TOC = 0x20000000;
export const BLOB_FEATURE_CAP_TAR_TOC = 0x40000000;

/** Chunk info flags. */
export const CHUNK_FLAG_COMPRESSED = 0x1;

/** Blob compression-context (ci) area. */
export const CI_V1_ENTRY_SIZE = 16;
export const BLOB_META_HEADER_SIZE = 4096;
export const BLOB_META_MAGIC = 0xb10bb10b;
/** The largest chunk a ci v1 entry can describe (24-bit size - 1). */
export const MAX_CHUNK_SIZE = 0x1000000;
export const DEFAULT_CHUNK_SIZE = 0x100000;

/** Blob ToC. */
export const TOC_ENTRY_SIZE = 128;
export const TAR_HEADER_SIZE = 512;
export const TOC_FLAG_NONE = 0x1;
export const TOC_FLAG_ZSTD = 0x2;
export const TOC_FLAG_LZ4_BLOCK = 0x4;
export const TOC_BLOB_RAW = 'image.blob';
export const TOC_BOOTSTRAP = 'image.boot';
export const TOC_BLOB_META = 'blob.meta';
export const TOC_BLOB_META_HEADER = 'blob.meta.header';
export const TOC_BLOB_DIGEST = 'blob.digest';
export const TOC_NAME = 'rafs.blob.toc';

/** File type bits of st_mode. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
