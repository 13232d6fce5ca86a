/**
 * nydusd's JSON configuration (version 2, or the legacy version 1 form) reduced to what the rafs backend
 * uses: a localfs blob directory or blob file, and digest validation. Unknown keys and unsupported backends
 * are errors that name them; keys nydusd knows but we need not (prefetch, iostats...) are accepted.
 */
export interface RafsOptions {
  /** A bootstrap file, or a self-contained blob holding one. */
  bootstrap: string;
  /** Directory of blobs named by blob id. */
  localfsDir?: string;
  /** Explicit blob files in device / blob-table order (overrides localfsDir for those indexes). */
  blobs?: string[];
  digestValidate?: boolean;
  /** Memory bound of the decompressed-chunk cache (default 64 MiB). */
  cacheBytes?: number;
  entryTimeout?: number;
  attrTimeout?: number;
  /** Read the next chunk ahead on sequential reads (default true). */
  readahead?: boolean;
}

type Json = Record<string, unknown>;

const V2_TOP = ['version', 'id', 'backend', 'cache', 'rafs', 'overlay', 'internal', 'fscache', 'fuse'];
const CACHE_KEYS = ['type', 'compressed', 'validate', 'prefetch', 'filecache', 'fscache'];
const RAFS_KEYS = ['mode', 'batch_size', 'user_io_batch_size', 'validate', 'enable_xattr', 'iostats_files',
  'access_pattern', 'latest_read_files', 'prefetch', 'amplify_io'];
/** Ours (upstream has no such section): how long the kernel may cache entries and attributes, in seconds. */
const FUSE_KEYS = ['entry_timeout', 'attr_timeout'];
const V1_TOP = ['device', 'mode', 'digest_validate', 'iostats_files', 'enable_xattr', 'access_pattern',
  'latest_read_files', 'fs_prefetch', 'prefetch_all', 'amplify_io', 'version', 'id'];
const BACKEND_KEYS = ['type', 'localfs', 'localdisk', 'oss', 's3', 'registry', 'http_proxy', 'http-proxy'];
const V1_BACKEND_KEYS = ['type', 'config'];
const LOCALFS_KEYS = ['dir', 'blob_file', 'readahead', 'readahead_sec'];

function object(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`rafs config: ${where} must be an object`);
  return v as Json;
}

function onlyKeys(o: Json, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new Error(`rafs config: unknown key "${k}" in ${where}`);
  }
}

function optString(o: Json, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`rafs config: ${where}.${key} must be a string`);
  return v;
}

function optBool(o: Json, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new Error(`rafs config: ${where}.${key} must be a boolean`);
  return v;
}

function optSeconds(o: Json, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new Error(`rafs config: ${where}.${key} must be a number of seconds >= 0`);
  }
  return v;
}

function timeouts(fuse: Json): Pick<RafsOptions, 'entryTimeout' | 'attrTimeout'> {
  const out: Pick<RafsOptions, 'entryTimeout' | 'attrTimeout'> = {};
  const entry = optSeconds(fuse, 'entry_timeout', 'fuse');
  const attr = optSeconds(fuse, 'attr_timeout', 'fuse');
  if (entry !== undefined) out.entryTimeout = entry;
  if (attr !== undefined) out.attrTimeout = attr;
  return out;
}

function localfs(type: unknown, conf: Json | undefined, where: string): Pick<RafsOptions, 'localfsDir' | 'blobs'> {
  if (type !== 'localfs') {
    throw new Error(`rafs config: backend type ${JSON.stringify(type)} is not supported (only "localfs")`);
  }
  const c = object(conf ?? {}, where);
  onlyKeys(c, LOCALFS_KEYS, where);
  const dir = optString(c, 'dir', where);
  const blobFile = optString(c, 'blob_file', where);
  if (!dir && !blobFile) throw new Error(`rafs config: ${where} needs "dir" or "blob_file"`);
  return { localfsDir: dir, blobs: blobFile ? [blobFile] : undefined };
}

export function rafsOptionsFromConfig(source: string, configJson: string | object): RafsOptions {
  let cfg: Json;
  if (typeof configJson === 'string') {
    try { cfg = object(JSON.parse(configJson), 'the config'); } catch (err) {
      throw new Error(`rafs config: ${(err as Error).message}`);
    }
  } else cfg = object(configJson, 'the config');

  if (cfg.version === 2) {
    onlyKeys(cfg, V2_TOP, 'the config');
    const backend = object(cfg.backend, 'backend');
    onlyKeys(backend, BACKEND_KEYS, 'backend');
    const rafs = cfg.rafs === undefined ? {} : object(cfg.rafs, 'rafs');
    onlyKeys(rafs, RAFS_KEYS, 'rafs');
    const cache = cfg.cache === undefined ? {} : object(cfg.cache, 'cache');
    onlyKeys(cache, CACHE_KEYS, 'cache');
    const fuse = cfg.fuse === undefined ? {} : object(cfg.fuse, 'fuse');
    onlyKeys(fuse, FUSE_KEYS, 'fuse');
    const validate = optBool(rafs, 'validate', 'rafs') ?? optBool(cache, 'validate', 'cache') ?? false;
    return {
      bootstrap: source, ...localfs(backend.type, backend.localfs as Json | undefined, 'backend.localfs'), digestValidate: validate,
      ...timeouts(fuse),
    };
  }
  if (cfg.version !== undefined && cfg.version !== 1) throw new Error(`rafs config: unsupported version ${JSON.stringify(cfg.version)}`);
  onlyKeys(cfg, V1_TOP, 'the config');
  const device = object(cfg.device, 'device');
  const backend = object(device.backend, 'device.backend');
  onlyKeys(backend, V1_BACKEND_KEYS, 'device.backend');
  return {
    bootstrap: source,
    ...localfs(backend.type, backend.config as Json | undefined, 'device.backend.config'),
    digestValidate: optBool(cfg, 'digest_validate', 'the config') ?? false,
  };
}
