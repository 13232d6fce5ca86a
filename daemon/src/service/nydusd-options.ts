/**
 * nydusd's command line: flags (upstream's names) parsed into the daemon's options and the root mount command.
 * Every problem is a UsageError naming the flag (nydusd prints it and exits with status 2): unknown flags, missing
 * values, bad values and conflicts (--shared-dir with --bootstrap, --id without --supervisor...). Reading the
 * --config file is the only I/O here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { isLogLevel, LogLevel } from '../log';
import { FAILOVER_POLICIES, FailoverPolicy, MountCommand } from './types';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The reader's default busy-poll window (see daemon/src/transport/busy-poll.ts). */
export const DEFAULT_BUSY_POLL_US = 50;

export const NYDUSD_USAGE = `Usage: nydusd --mountpoint MNT [--shared-dir DIR [--writable] [--allow-direct-io] | --bootstrap FILE [--localfs-dir DIR | --blob PATH | --config FILE] [--writable]] [options]

Serves a passthrough directory (--shared-dir) or a RAFS v6 / EROFS image (--bootstrap) over FUSE at MNT until
SIGTERM or SIGINT, then unmounts and exits 0.

  --mountpoint MNT          where to mount the FUSE filesystem (an existing, empty directory)
  --shared-dir DIR          passthrough_fs: serve DIR
  --writable                passthrough_fs: allow changes (read-only otherwise). With --bootstrap: mount read-write
                            and have the kernel open files as usual, so that passthrough_fs instances can join
                            (Mount API); without it an image at the root makes a read-only mount read without OPEN
  --allow-direct-io         passthrough_fs: an O_DIRECT open bypasses the host's page cache too (by default, as in
                            virtiofsd, the daemon serves it from the host's page cache)
  --bootstrap FILE          rafs: the image's bootstrap (or a self-contained blob / EROFS image)
  --localfs-dir DIR         rafs: directory holding the blobs, named by blob id
  --blob PATH               rafs: the blob file
  --config FILE             the filesystem's JSON config (nydusd v1 or v2 format)
  --virtual-mountpoint P    where the filesystem appears inside the mount (default "/")
  --prefetch-files PATH     file to prefetch (repeatable); recorded, advisory
  --apisock PATH            serve the gRPC control API on this Unix socket (mode 0600)
  --id ID                   daemon id (needs --supervisor)
  --supervisor SOCK         the supervisor's socket for hot upgrade / failover (needs --id)
  --upgrade                 start in INIT and wait for Takeover (needs --supervisor)
  --failover-policy P       none, resend (default) or flush
  --log-level L             error, warn, info (default), debug, trace
  --log-file FILE           write logs to FILE instead of stderr
  --thread-num N            threads, beside the main one, that answer reads of files the daemon serves itself
                            (O_DIRECT opens, or every open without kernel passthrough); 0: none (default 3)
  --read-ahead-kb N         the mount's readahead window (default 1024; 0 keeps the kernel's 128)
  --busy-poll-us N          keep polling /dev/fuse for up to N microseconds when it runs dry, adaptively, instead
                            of sleeping at once; so do the read threads after a READ answered from the page cache
                            (default ${DEFAULT_BUSY_POLL_US}; 0 turns it off)
  --no-kernel-passthrough   serve every read and write of passthrough_fs files in the daemon, even where the
                            kernel offers FUSE passthrough (Linux 6.9+; backing files on a non-stacked filesystem)
  --help, --version`;

export interface NydusdOptions {
  mountpoint: string;
  root?: MountCommand;
  apisock?: string;
  id?: string;
  supervisor?: string;
  upgrade: boolean;
  failoverPolicy: FailoverPolicy;
  logLevel: LogLevel;
  logFile?: string;
  threadNum?: number;
  /** Ask for FUSE kernel passthrough (default true). */
  kernelPassthrough: boolean;
  readAheadKb?: number;
  /** Longest busy-poll window of the FUSE reader in microseconds (0: off). */
  busyPollUs: number;
  /** --writable: the mount is read-write and files are opened, also with an image at the root (Vfs openFiles). */
  writable: boolean;
}

export type NydusdCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: NydusdOptions };

const FLAGS = {
  mountpoint: { type: 'string' },
  'shared-dir': { type: 'string' },
  writable: { type: 'boolean' },
  'allow-direct-io': { type: 'boolean' },
  bootstrap: { type: 'string' },
  'localfs-dir': { type: 'string' },
  blob: { type: 'string', multiple: true },
  config: { type: 'string' },
  'virtual-mountpoint': { type: 'string' },
  'prefetch-files': { type: 'string', multiple: true },
  apisock: { type: 'string' },
  id: { type: 'string' },
  supervisor: { type: 'string' },
  upgrade: { type: 'boolean' },
  'failover-policy': { type: 'string' },
  'log-level': { type: 'string' },
  'log-file': { type: 'string' },
  'thread-num': { type: 'string' },
  'no-kernel-passthrough': { type: 'boolean' },
  'read-ahead-kb': { type: 'string' },
  'busy-poll-us': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

type Values = ReturnType<typeof parseFlags>['values'];

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, '.'));
  }
}

function nonEmpty(values: Values, flag: keyof Values): string | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.startsWith('--')) {
    throw new UsageError(`Option --${flag} needs a value`);
  }
  return value;
}

function readConfigFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read --config ${file}: ${(err as Error).message}`);
  }
  try {
    JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return text;
}

function rootCommand(values: Values): MountCommand | undefined {
  const sharedDir = nonEmpty(values, 'shared-dir');
  const bootstrap = nonEmpty(values, 'bootstrap');
  const localfsDir = nonEmpty(values, 'localfs-dir');
  const blobs = values.blob ?? [];
  const configFile = nonEmpty(values, 'config');
  const config = configFile ? readConfigFile(configFile) : '';
  const mountpoint = nonEmpty(values, 'virtual-mountpoint') ?? '/';
  const prefetchFiles = values['prefetch-files'] ?? [];
  if (sharedDir && bootstrap) throw new UsageError('--shared-dir and --bootstrap cannot be used together');
  if (!bootstrap && (localfsDir || blobs.length > 0)) throw new UsageError('--localfs-dir and --blob need --bootstrap');
  if (!sharedDir && !bootstrap && values.writable) throw new UsageError('--writable needs --shared-dir or --bootstrap');
  if (!sharedDir && values['allow-direct-io']) throw new UsageError('--allow-direct-io needs --shared-dir');
  if (sharedDir) {
    const parsed = config ? (JSON.parse(config) as Record<string, unknown>) : {};
    const flagged = {
      ...parsed,
      ...(values.writable ? { writable: true } : {}),
      ...(values['allow-direct-io'] ? { allow_direct_io: true } : {}),
    };
    const text = Object.keys(flagged).length > 0 ? JSON.stringify(flagged) : '';
    return { fsType: 'passthrough_fs', source: path.resolve(sharedDir), config: text, mountpoint, prefetchFiles };
  }
  if (bootstrap) {
    if (config && (localfsDir || blobs.length > 0)) throw new UsageError('--config cannot be combined with --localfs-dir or --blob');
    if (localfsDir && blobs.length > 0) throw new UsageError('--localfs-dir and --blob cannot be used together');
    if (blobs.length > 1) throw new UsageError('Only one --blob can be given; put several blobs in a --localfs-dir');
    const localfs = localfsDir ? { dir: path.resolve(localfsDir) } : blobs.length === 1 ? { blob_file: path.resolve(blobs[0]) } : undefined;
    const text = localfs ? JSON.stringify({ version: 2, backend: { type: 'localfs', localfs } }) : config;
    return { fsType: 'rafs', source: path.resolve(bootstrap), config: text, mountpoint, prefetchFiles };
  }
  if (config) throw new UsageError('--config needs --shared-dir or --bootstrap');
  return undefined;
}

export function parseNydusdArgs(argv: string[]): NydusdCommand {
  const { values } = parseFlags(argv);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const mountpoint = nonEmpty(values, 'mountpoint');
  if (!mountpoint) throw new UsageError('--mountpoint is required');
  const id = nonEmpty(values, 'id');
  const supervisor = nonEmpty(values, 'supervisor');
  if (id && !supervisor) throw new UsageError('--id needs --supervisor');
  if (supervisor && !id) throw new UsageError('--supervisor needs --id');
  if (values.upgrade && !supervisor) throw new UsageError('--upgrade needs --id and --supervisor (the state comes from the supervisor)');
  const policy = nonEmpty(values, 'failover-policy') ?? 'resend';
  if (!(FAILOVER_POLICIES as readonly string[]).includes(policy)) {
    throw new UsageError(`--failover-policy must be none, resend or flush, not "${policy}"`);
  }
  const logLevel = (nonEmpty(values, 'log-level') ?? 'info').toLowerCase();
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be error, warn, info, debug or trace, not "${logLevel}"`);
  const threadNum = integerFlag(values, 'thread-num', 0, 64);
  const readAheadKb = integerFlag(values, 'read-ahead-kb', 0, 65536);
  const busyPollUs = integerFlag(values, 'busy-poll-us', 0, 1000) ?? DEFAULT_BUSY_POLL_US;
  return {
    kind: 'run',
    options: {
      mountpoint: path.resolve(mountpoint),
      root: rootCommand(values),
      apisock: nonEmpty(values, 'apisock'),
      id,
      supervisor,
      upgrade: values.upgrade ?? false,
      failoverPolicy: policy as FailoverPolicy,
      logLevel,
      logFile: nonEmpty(values, 'log-file'),
      threadNum,
      kernelPassthrough: values['no-kernel-passthrough'] !== true,
      readAheadKb,
      busyPollUs,
      writable: values.writable === true,
    },
  };
}

/** An integer flag within [min, max], or undefined when it is absent. */
function integerFlag(values: Values, flag: 'thread-num' | 'read-ahead-kb' | 'busy-poll-us', min: number, max: number): number | undefined {
  const text = nonEmpty(values, flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, not "${text}"`);
  }
  return value;
}
