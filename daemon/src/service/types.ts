/**
 * Small value types of the control plane, parsed from the outside world: the daemon state as reported to clients
 * (numbered as upstream: 1..4 are INIT, RUNNING, READY, STOPPED; anything else UNKNOWN), the backend filesystem type
 * of a mount request, and the failover policy flag. Parsing is strict: unknown input is an error, not a default.
 */
import { NydusError } from '../errors';

export enum DaemonState {
  INIT = 1,
  RUNNING = 2,
  READY = 3,
  STOPPED = 4,
  UNKNOWN = 5,
}

export function daemonStateFromNumber(value: number): DaemonState {
  switch (value) {
    case 1:
      return DaemonState.INIT;
    case 2:
      return DaemonState.RUNNING;
    case 3:
      return DaemonState.READY;
    case 4:
      return DaemonState.STOPPED;
    default:
      return DaemonState.UNKNOWN;
  }
}

export function daemonStateName(state: DaemonState): string {
  return DaemonState[state] ?? 'UNKNOWN';
}

export type FsBackendType = 'rafs' | 'passthrough_fs';
export const FS_BACKEND_TYPES: readonly FsBackendType[] = ['rafs', 'passthrough_fs'];

export function parseFsBackendType(value: string): FsBackendType {
  if ((FS_BACKEND_TYPES as readonly string[]).includes(value)) return value as FsBackendType;
  throw new NydusError(
    'InvalidArguments',
    `Unsupported filesystem type "${value}": only "rafs" and "passthrough_fs" are supported`,
  );
}

export type FailoverPolicy = 'none' | 'resend' | 'flush';
export const FAILOVER_POLICIES: readonly FailoverPolicy[] = ['none', 'resend', 'flush'];

export function parseFailoverPolicy(value: string): FailoverPolicy {
  if ((FAILOVER_POLICIES as readonly string[]).includes(value)) return value as FailoverPolicy;
  throw new NydusError('InvalidArguments', `Unknown failover policy "${value}": expected none, resend or flush`);
}

/** A mount request as received (the supervisor saves these verbatim for a successor). */
export interface MountCommand {
  fsType: FsBackendType;
  source: string;
  /** JSON text; "" when none was given. */
  config: string;
  /** "/" or "/name" inside the daemon's FUSE mount. */
  mountpoint: string;
  prefetchFiles: string[];
}
