/* rafs directory listings answered natively: EROFS directory blocks straight into FUSE replies.
 *
 * packErofsListingReply(msg, image, present, conf, plus, maxWrite, out, result) answers a whole READDIR, or a
 * names-only READDIRPLUS, from a metadata image held in memory: it decodes the directory's inode, reads its blocks (flat
 * layouts), packs the entries from the requested cookie as fuse_dirent records (fuse_direntplus with `plus`, their
 * fuse_entry_out zeroed: names only), fills every subdirectory's entry from its inode ("." and ".." aside), and
 * writes the complete reply (out header included) into `out`. conf (a Float64Array) describes the image and how
 * its numbers appear on the mount: see CONF_* below. result[0] receives the entries that are not directories,
 * result[1] (when result has two slots) the entries filled in: the kernel holds one more reference to each.
 * Returns the reply's length, or 0 when the request is left to the TypeScript handlers: anything unusual (a
 * malformed message, a nodeid not of this image, a bad cookie, a directory or block that is not well formed,
 * an inode layout other than flat) goes there, which answers it or names the fault. So does a request that needs
 * a block of the image not in memory yet: `present` (a Uint8Array, or undefined when all are in) has a 1 for each
 * block of CONF_PRESENCE_BLOCK bytes that is.
 *
 * Directory blocks are 12-byte dirents {nid u64, nameoff u16, file_type u8, reserved u8}, then the names: entries
 * = nameoff[0] / 12, name i runs to nameoff[i + 1] (the last to the block's end), cut at the first NUL. The cookie
 * after entry i is blockIndex * blockSize + (i + 1) * 12, and (blockIndex + 1) * blockSize after a block's last
 * entry, as the kernel's erofs numbers them. A block is left to TypeScript when it is not well formed (a bad
 * nameoff, a name empty or longer than 255 bytes) or lists a nid of 2^36 or more, which no inode can have. */
#include "common.h"

#define EROFS_DIRENT_SIZE 12
#define EROFS_FT_DIR 2
#define FUSE_IN_HEADER 40
#define FUSE_READ_IN 40
#define FUSE_OUT_HEADER 16
#define FUSE_DIRENT_BASE 24
#define FUSE_ENTRY_OUT 128
#define FUSE_ROOT_ID 1
#define LOCAL_SPAN (1ULL << 36)
/* nids from here on cannot be inodes (rafs nodeids are nid + 2 below 2^36). */
#define NID_LIMIT LOCAL_SPAN
#define MAX_SAFE (1ULL << 53)
#define S_IFMT_ 0170000
#define S_IFDIR_ 0040000
#define S_IFCHR_ 0020000
#define S_IFBLK_ 0060000
#define LAYOUT_FLAT_PLAIN 0
#define LAYOUT_FLAT_INLINE 2

/* conf: the image (as rafs/meta/metadata.ts and rafs/attr.ts see it), then the mount's numbering (vfs). */
enum {
  CONF_BLOCK_SIZE, CONF_META_BLKADDR, CONF_ROOT_NID, CONF_BUILD_TIME, CONF_BUILD_TIME_NSEC,
  CONF_ENTRY_TIMEOUT, CONF_ATTR_TIMEOUT,
  /* nodeid = NODE_BASE + local (local = nid + 2, the image root 1), but the root is FUSE_ROOT_ID when ROOT_IS_ONE */
  CONF_NODE_BASE, CONF_ROOT_IS_ONE,
  /* st_ino = INO_BASE + nid */
  CONF_INO_BASE,
  CONF_PRESENCE_BLOCK,
  CONF_LEN
};

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static inline uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32); }
static inline void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* EROFS file_type (1 regular .. 7 symlink) -> DT_* */
static const uint32_t DTYPE[8] = {0, 8, 4, 2, 6, 1, 12, 10};

typedef struct {
  const uint8_t *bytes;
  size_t len;
  /* which blocks of presence_block bytes are in bytes[] (NULL: all); missed is set when one needed is not */
  const uint8_t *present;
  size_t present_len;
  uint64_t presence_block;
  int missed;
  uint64_t block_size, meta_blkaddr, root_nid, build_time;
  uint32_t build_time_nsec;
  double entry_timeout, attr_timeout;
  uint64_t node_base, ino_base;
  int root_is_one;
} image_t;

typedef struct {
  uint64_t nid, offset, size, mtime;
  uint32_t inode_size, xattr_size, layout, mode, nlink, uid, gid, iu, mtime_nsec;
} inode_t;

/* Bytes [off, off + n) of the image, or NULL when they lie outside it or (img->missed set) are not all in memory. */
static const uint8_t *image_bytes(image_t *img, uint64_t off, uint64_t n) {
  if (off > img->len || n > img->len - off) return NULL;
  if (img->present && n > 0) {
    for (uint64_t b = off / img->presence_block; b <= (off + n - 1) / img->presence_block; b++) {
      if (b >= img->present_len || img->present[b] != 1) {
        img->missed = 1;
        return NULL;
      }
    }
  }
  return img->bytes + off;
}

/* As rafs/layout/inode.ts decodeInode (and RafsMetadata.inode's bounds); 0 for an inode it would refuse. */
static int decode_inode(image_t *img, uint64_t nid, inode_t *ino) {
  if (nid >= NID_LIMIT) return 0;
  uint64_t off = img->meta_blkaddr * img->block_size + nid * 32;
  if (off + 32 > img->len) return 0;
  uint64_t avail = img->len - off < 64 ? img->len - off : 64;
  const uint8_t *p = image_bytes(img, off, avail);
  if (!p) return 0;
  uint16_t format = le16(p);
  if (format & ~0xf) return 0;
  ino->layout = (format >> 1) & 7;
  if (ino->layout > 4) return 0;
  uint16_t icount = le16(p + 2);
  ino->nid = nid;
  ino->offset = off;
  ino->xattr_size = icount == 0 ? 0 : 12 + 4 * (icount - 1);
  ino->mode = le16(p + 4);
  ino->iu = le32(p + 16);
  if (!(format & 1)) {
    ino->inode_size = 32;
    ino->nlink = le16(p + 6);
    ino->size = le32(p + 8);
    ino->mtime = img->build_time + le32(p + 12);
    ino->mtime_nsec = img->build_time_nsec;
    ino->uid = le16(p + 24);
    ino->gid = le16(p + 26);
    return 1;
  }
  if (avail < 64) return 0;
  ino->inode_size = 64;
  ino->size = le64(p + 8);
  ino->uid = le32(p + 24);
  ino->gid = le32(p + 28);
  ino->mtime = le64(p + 32);
  ino->mtime_nsec = le32(p + 40);
  ino->nlink = le32(p + 44);
  return ino->size < MAX_SAFE && ino->mtime < MAX_SAFE && ino->mtime_nsec < 1000000000u;
}

/* As server putTimeout: whole seconds and the nanoseconds left. */
static void put_timeout(uint8_t *sec, uint8_t *nsec, double seconds) {
  double s = seconds > 0 ? (double)(uint64_t)seconds : 0;
  put64(sec, (uint64_t)s);
  put32(nsec, (uint32_t)(int64_t)((seconds - s) * 1e9));
}

static uint64_t nodeid_of(const image_t *img, uint64_t nid) {
  uint64_t local = nid == img->root_nid ? FUSE_ROOT_ID : nid + 2;
  return local == FUSE_ROOT_ID && img->root_is_one ? FUSE_ROOT_ID : img->node_base + local;
}

/* fuse_entry_out for the inode, as rafs entryOf + attrOf and the VFS's mapEntry give it. */
static void put_entry(image_t *img, const inode_t *ino, uint8_t *e) {
  put64(e, nodeid_of(img, ino->nid));
  put64(e + 8, 0);
  put_timeout(e + 16, e + 32, img->entry_timeout);
  put_timeout(e + 24, e + 36, img->attr_timeout);
  uint8_t *a = e + 40;
  uint64_t bs = img->block_size;
  uint32_t type = ino->mode & S_IFMT_;
  put64(a, img->ino_base + ino->nid);
  put64(a + 8, ino->size);
  put64(a + 16, (ino->size + bs - 1) / bs * (bs / 512));
  put64(a + 24, ino->mtime);
  put64(a + 32, ino->mtime);
  put64(a + 40, ino->mtime);
  put32(a + 48, ino->mtime_nsec);
  put32(a + 52, ino->mtime_nsec);
  put32(a + 56, ino->mtime_nsec);
  put32(a + 60, ino->mode);
  put32(a + 64, ino->nlink);
  put32(a + 68, ino->uid);
  put32(a + 72, ino->gid);
  put32(a + 76, type == S_IFCHR_ || type == S_IFBLK_ ? ino->iu : 0);
  put32(a + 80, (uint32_t)bs);
  put32(a + 84, 0);
}

typedef struct {
  size_t at;
  double names;
  double filled;  /* entries filled in (a nodeid handed out) */
  int stopped;
} pack_state;

/* Packs entries of one directory block from `first` into out[st->at, cap) while they fit, each subdirectory's
 * entry filled in with `plus`. Returns -1 for a block left to TypeScript, else 0. */
static int pack(image_t *img, const uint8_t *block, size_t len, uint64_t first, uint8_t *out, size_t cap,
                int plus, uint64_t cookie_base, pack_state *st) {
  if (len < EROFS_DIRENT_SIZE) return -1;
  size_t nameoff0 = le16(block + 8);
  if (nameoff0 < EROFS_DIRENT_SIZE || nameoff0 % EROFS_DIRENT_SIZE != 0 || nameoff0 > len) return -1;
  size_t count = nameoff0 / EROFS_DIRENT_SIZE;
  for (size_t i = first; i < count; i++) {
    const uint8_t *d = block + i * EROFS_DIRENT_SIZE;
    uint64_t nid = le64(d);
    size_t start = le16(d + 8);
    size_t end = i + 1 < count ? le16(d + 20) : len;
    if (start < count * EROFS_DIRENT_SIZE || end > len || end < start || nid >= NID_LIMIT) return -1;
    const uint8_t *name = block + start;
    const uint8_t *nul = memchr(name, 0, end - start);
    size_t name_len = nul ? (size_t)(nul - name) : end - start;
    if (name_len == 0 || name_len > 255) return -1;
    size_t header = plus ? FUSE_ENTRY_OUT + FUSE_DIRENT_BASE : FUSE_DIRENT_BASE;
    size_t rec = (header + name_len + 7) & ~(size_t)7;
    if (st->at + rec > cap) { st->stopped = 1; break; }
    uint8_t *r = out + st->at;
    if (plus) { memset(r, 0, FUSE_ENTRY_OUT); r += FUSE_ENTRY_OUT; }
    uint8_t ft = d[10];
    put64(r, nid + img->ino_base);
    put64(r + 8, i + 1 == count ? cookie_base + img->block_size : cookie_base + (i + 1) * EROFS_DIRENT_SIZE);
    put32(r + 16, (uint32_t)name_len);
    put32(r + 20, ft < 8 ? DTYPE[ft] : 0);
    memcpy(r + FUSE_DIRENT_BASE, name, name_len);
    memset(r + FUSE_DIRENT_BASE + name_len, 0, rec - header - name_len);
    if (ft != EROFS_FT_DIR) {
      st->names++;
    } else if (plus && !is_dot_or_dotdot(name, name_len)) {
      inode_t sub;
      /* An inode that is not well formed leaves the entry names only, as the TypeScript packing does. */
      if (decode_inode(img, nid, &sub)) {
        put_entry(img, &sub, out + st->at);
        st->filled++;
      }
    }
    st->at += rec;
  }
  return 0;
}

/* The bytes of directory block `index`, as rafs/meta/file-map.ts maps flat layouts; 0 if out of the image. */
static int dir_block(image_t *img, const inode_t *dir, uint64_t index, const uint8_t **block, size_t *len) {
  uint64_t bs = img->block_size;
  uint64_t nblocks = (dir->size + bs - 1) / bs;
  uint64_t length = dir->size - index * bs < bs ? dir->size - index * bs : bs;
  uint64_t pos;
  if (dir->layout == LAYOUT_FLAT_INLINE && index == nblocks - 1) {
    pos = dir->offset + dir->inode_size + dir->xattr_size;
    if (pos % bs + length > bs) return 0;
  } else {
    pos = (uint64_t)dir->iu * bs + index * bs;
  }
  *block = image_bytes(img, pos, length);
  *len = (size_t)length;
  return *block != NULL;
}

static size_t listing_reply(const uint8_t *msg, size_t msg_len, image_t *img, int plus, size_t max_write,
                            uint8_t *out, size_t out_cap, double *result, size_t result_len) {
  if (msg_len < FUSE_IN_HEADER + FUSE_READ_IN) return 0;
  if (le32(msg) != msg_len || (size_t)le16(msg + 36) * 8 > msg_len - FUSE_IN_HEADER) return 0;
  uint64_t unique = le64(msg + 8), nodeid = le64(msg + 16);
  uint64_t cookie = le64(msg + FUSE_IN_HEADER + 8);
  size_t size = le32(msg + FUSE_IN_HEADER + 16);
  if (size > max_write) size = max_write;
  if (FUSE_OUT_HEADER + size > out_cap) return 0;
  uint64_t nid;
  if (nodeid == FUSE_ROOT_ID && img->root_is_one) {
    nid = img->root_nid;
  } else {
    if (nodeid <= img->node_base || nodeid - img->node_base >= LOCAL_SPAN) return 0;
    uint64_t local = nodeid - img->node_base;
    nid = local == FUSE_ROOT_ID ? img->root_nid : local - 2;
  }
  inode_t dir;
  if (!decode_inode(img, nid, &dir) || (dir.mode & S_IFMT_) != S_IFDIR_) return 0;
  if (dir.layout != LAYOUT_FLAT_PLAIN && dir.layout != LAYOUT_FLAT_INLINE) return 0;
  uint64_t bs = img->block_size;
  if (cookie >= MAX_SAFE || (cookie % bs) % EROFS_DIRENT_SIZE != 0) return 0;
  uint64_t nblocks = (dir.size + bs - 1) / bs;
  pack_state st = {FUSE_OUT_HEADER, 0, 0, 0};
  uint64_t entry = (cookie % bs) / EROFS_DIRENT_SIZE;
  for (uint64_t index = cookie / bs; index < nblocks && !st.stopped; index++, entry = 0) {
    const uint8_t *block;
    size_t len;
    if (!dir_block(img, &dir, index, &block, &len)) return 0;
    if (pack(img, block, len, entry, out, FUSE_OUT_HEADER + size, plus, index * bs, &st) < 0) return 0;
  }
  if (img->missed) return 0;
  put32(out, (uint32_t)st.at);
  put32(out + 4, 0);
  put64(out + 8, unique);
  result[0] = st.names;
  if (result_len >= 2) result[1] = st.filled;
  return st.at;
}

static napi_value n_pack_erofs_listing_reply(napi_env env, napi_callback_info info) {
  ARGS(8);
  uint8_t *msg, *bytes, *present = NULL, *conf_bytes, *out, *res;
  size_t msg_len, len, present_len = 0, conf_len, out_cap, res_len;
  napi_valuetype present_type;
  napi_typeof(env, argv[2], &present_type);
  if (arg_bytes(env, argv[0], &msg, &msg_len) < 0 || arg_bytes(env, argv[1], &bytes, &len) < 0 ||
      (present_type != napi_undefined && arg_bytes(env, argv[2], &present, &present_len) < 0) ||
      arg_bytes(env, argv[3], &conf_bytes, &conf_len) < 0 || arg_bytes(env, argv[6], &out, &out_cap) < 0 ||
      arg_bytes(env, argv[7], &res, &res_len) < 0 || conf_len < CONF_LEN * sizeof(double) || res_len < sizeof(double)) {
    napi_throw_type_error(env, NULL, "expected Buffers, Uint8Array or undefined, and Float64Arrays"); return NULL;
  }
  bool plus = false;
  napi_get_value_bool(env, argv[4], &plus);
  int64_t max_write = arg_i64(env, argv[5]);
  const double *conf = (const double *)conf_bytes;
  for (int i = 0; i < CONF_LEN; i++) {
    if (!(conf[i] >= 0 && conf[i] < (double)MAX_SAFE)) return num(env, 0);
  }
  image_t img = {
    .bytes = bytes, .len = len, .present = present, .present_len = present_len,
    .presence_block = (uint64_t)conf[CONF_PRESENCE_BLOCK], .missed = 0,
    .block_size = (uint64_t)conf[CONF_BLOCK_SIZE], .meta_blkaddr = (uint64_t)conf[CONF_META_BLKADDR],
    .root_nid = (uint64_t)conf[CONF_ROOT_NID], .build_time = (uint64_t)conf[CONF_BUILD_TIME],
    .build_time_nsec = (uint32_t)conf[CONF_BUILD_TIME_NSEC], .entry_timeout = conf[CONF_ENTRY_TIMEOUT],
    .attr_timeout = conf[CONF_ATTR_TIMEOUT], .node_base = (uint64_t)conf[CONF_NODE_BASE],
    .ino_base = (uint64_t)conf[CONF_INO_BASE], .root_is_one = conf[CONF_ROOT_IS_ONE] != 0,
  };
  if (img.block_size < 512 || max_write <= 0 || (present && img.presence_block == 0)) return num(env, 0);
  size_t n = listing_reply(msg, msg_len, &img, plus, (size_t)max_write, out, out_cap, (double *)res, res_len / sizeof(double));
  return num(env, (double)n);
}

void register_erofs_listing(napi_env env, napi_value exports) {
  export_fn(env, exports, "packErofsListingReply", n_pack_erofs_listing_reply);
}
