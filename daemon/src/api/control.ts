/**
 * What the gRPC API needs from the daemon: the Daemon class implements it, tests pass fakes. Keeping this narrow is
 * what lets the API be tested over a real socket without a FUSE mount.
 */
import type { FsMetricsReport } from '../service/metrics';
import type { VfsInstance } from '../service/ports';
import type { MachineState } from '../service/state-machine';
import type { DaemonState, FailoverPolicy, MountCommand } from '../service/types';
import type { VersionInfo } from '../service/version';

export interface DaemonControl {
  readonly id: string;
  readonly supervisor: string;
  readonly mountpoint: string;
  readonly failoverPolicy: FailoverPolicy;
  /** FUSE kernel passthrough negotiated on the connection. */
  readonly kernelPassthrough?: boolean;
  readonly version: VersionInfo;
  readonly state: DaemonState;
  instances(): Pick<VfsInstance, 'index' | 'mountpoint' | 'info' | 'mountedTime'>[];
  metrics(): FsMetricsReport[];
  start(): Promise<MachineState>;
  stopService(): Promise<MachineState>;
  triggerExit(): Promise<MachineState>;
  takeover(): Promise<MachineState>;
  sendFuseFd(): Promise<void>;
  mount(command: MountCommand): Promise<number>;
  umount(mountpoint: string): Promise<void>;
}
