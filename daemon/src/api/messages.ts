/**
 * Conversions between the daemon's values and the API's messages (snake_case, as proto-loader gives them with
 * keepCase), and the checks on incoming requests: a request that does not make sense is InvalidArguments /
 * InvalidConfig with a message naming the field, before anything is done.
 */
import { NydusError } from '../errors';
import { isLogLevel, LogLevel } from '../log';
import { validateSubMountpoint } from '../service/mounts';
import { parseConfigObject } from '../service/backends';
import type { FsMetricsReport } from '../service/metrics';
import { redactConfig } from '../service/redact';
import { DaemonState, daemonStateName, MountCommand, parseFsBackendType } from '../service/types';
import type { DaemonControl } from './control';
import type { BackendInfoMessage, DaemonInfoMessage, DaemonStateName, MetricsMessage } from './message-types';

export function stateMessage(state: DaemonState): DaemonStateName {
  return `DAEMON_STATE_${daemonStateName(state)}` as DaemonStateName;
}

export function daemonInfoMessage(control: DaemonControl, includeFsInfo: boolean): DaemonInfoMessage {
  const backendCollection: Record<string, BackendInfoMessage> = {};
  if (includeFsInfo) {
    for (const instance of control.instances()) {
      backendCollection[instance.mountpoint] = {
        backend_type: instance.info.fsType,
        mountpoint: instance.mountpoint,
        mounted_time: instance.mountedTime.toISOString(),
        config: redactConfig(instance.info.config),
        source: instance.info.source,
        index: instance.index,
        prefetch_files: instance.info.prefetchFiles,
      };
    }
  }
  const version = control.version;
  return {
    version: {
      package_ver: version.packageVer,
      git_commit: version.gitCommit,
      build_time: version.buildTime,
      node: version.node,
    },
    id: control.id,
    supervisor: control.supervisor,
    state: stateMessage(control.state),
    backend_collection: backendCollection,
    mountpoint: control.mountpoint,
    pid: process.pid,
    failover_policy: control.failoverPolicy,
    kernel_passthrough: control.kernelPassthrough ?? false,
  };
}

export function metricsMessage(reports: FsMetricsReport[]): MetricsMessage {
  return {
    filesystems: reports.map((report) => ({
      mountpoint: report.mountpoint,
      backend_type: report.backendType,
      opcodes: Object.entries(report.opcodes)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([opcode, figures]) => ({
          opcode,
          count: figures.count,
          errors: figures.errors,
          latency_avg_us: figures.avgUs,
          latency_max_us: figures.maxUs,
          latency_p99_us: figures.p99Us,
        })),
      bytes_read: report.bytesRead,
      bytes_written: report.bytesWritten,
      errors: report.errors,
      in_flight: report.inFlight,
      reads_on_threads: report.readsOnThreads,
    })),
  };
}

function stringField(request: Record<string, unknown>, name: string): string {
  const value = request[name];
  if (typeof value !== 'string') throw new NydusError('InvalidArguments', `Field ${name} must be a string`);
  return value;
}

export function mountCommandFrom(request: Record<string, unknown>): MountCommand {
  const fsTypeText = stringField(request, 'fs_type');
  if (fsTypeText === '') throw new NydusError('InvalidArguments', 'Field fs_type is required ("rafs" or "passthrough_fs")');
  const fsType = parseFsBackendType(fsTypeText);
  const source = stringField(request, 'source');
  if (source === '') throw new NydusError('InvalidArguments', 'Field source is required');
  const mountpoint = stringField(request, 'mountpoint');
  if (mountpoint === '') throw new NydusError('InvalidArguments', 'Field mountpoint is required (e.g. "/sub")');
  validateSubMountpoint(mountpoint);
  const config = stringField(request, 'config');
  parseConfigObject(config);
  const prefetch = request.prefetch_files;
  if (!Array.isArray(prefetch) || prefetch.some((item) => typeof item !== 'string' || !item.startsWith('/'))) {
    throw new NydusError('InvalidPrefetchList', 'Field prefetch_files must list absolute paths');
  }
  return { fsType, source, config, mountpoint, prefetchFiles: prefetch as string[] };
}

export function mountpointFrom(request: Record<string, unknown>): string {
  const mountpoint = stringField(request, 'mountpoint');
  if (mountpoint === '') throw new NydusError('InvalidArguments', 'Field mountpoint is required (e.g. "/sub")');
  validateSubMountpoint(mountpoint);
  return mountpoint;
}

export function logLevelFrom(request: Record<string, unknown>): LogLevel {
  const level = stringField(request, 'level').toLowerCase();
  if (!isLogLevel(level)) {
    throw new NydusError('InvalidArguments', `Unknown log level "${String(request.level)}": expected error, warn, info, debug or trace`);
  }
  return level;
}
