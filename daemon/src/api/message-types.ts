/**
 * TypeScript shapes of the daemon.proto messages as proto-loader delivers them (keepCase, enums as names,
 * 64-bit integers as numbers, defaults filled in). Hand-written to match proto/nydus/daemon/v1/daemon.proto.
 */

export type DaemonStateName =
  | 'DAEMON_STATE_UNSPECIFIED'
  | 'DAEMON_STATE_INIT'
  | 'DAEMON_STATE_RUNNING'
  | 'DAEMON_STATE_READY'
  | 'DAEMON_STATE_STOPPED'
  | 'DAEMON_STATE_UNKNOWN';

export interface VersionInfoMessage {
  package_ver: string;
  git_commit: string;
  build_time: string;
  node: string;
}

export interface BackendInfoMessage {
  backend_type: string;
  mountpoint: string;
  mounted_time: string;
  config: string;
  source: string;
  index: number;
  prefetch_files: string[];
}

export interface DaemonInfoMessage {
  version: VersionInfoMessage;
  id: string;
  supervisor: string;
  state: DaemonStateName;
  backend_collection: Record<string, BackendInfoMessage>;
  mountpoint: string;
  pid: number;
  failover_policy: string;
  kernel_passthrough: boolean;
}

export interface StateReplyMessage {
  state: DaemonStateName;
}

export interface OpcodeMetricsMessage {
  opcode: string;
  count: number;
  errors: number;
  latency_avg_us: number;
  latency_max_us: number;
  latency_p99_us: number;
}

export interface FsMetricsMessage {
  mountpoint: string;
  backend_type: string;
  opcodes: OpcodeMetricsMessage[];
  bytes_read: number;
  bytes_written: number;
  errors: number;
  in_flight: number;
  reads_on_threads: number;
}

export interface MetricsMessage {
  filesystems: FsMetricsMessage[];
}
