/**
 * The seam between the daemon and hot upgrade / failover (daemon/src/upgrade, owned by the supervisor work): the
 * daemon calls `sendState` after FUSE INIT, after every Mount/Umount and on SendFuseFd, and `restore` as the action
 * of the Takeover event. Without --supervisor both are Unsupported.
 */
import { NydusError } from '../errors';
import type { Daemon } from './daemon';

export interface UpgradeManager {
  /** Push the daemon's handover state and fds to the supervisor. */
  sendState(daemon: Daemon): Promise<void>;
  /** Fetch state and fds from the supervisor and rebuild session + filesystems (Takeover's Restore action). */
  restore(daemon: Daemon): Promise<void>;
  /** Releases what it holds (the supervisor link) when the daemon ends. */
  stop?(): void;
}

export const noSupervisorUpgradeManager: UpgradeManager = {
  sendState: () =>
    Promise.reject(new NydusError('Unsupported', 'Sending the FUSE state needs a supervisor (start nydusd with --id and --supervisor)')),
  restore: () =>
    Promise.reject(new NydusError('Unsupported', 'Takeover needs a supervisor (start nydusd with --id and --supervisor)')),
};
