/**
 * nydus-supervisor: keeps a nydusd's FUSE connection (and, for passthrough_fs, its open backing files) alive
 * while the daemon is replaced, by a newer binary (hot upgrade) or after it died (crash failover).
 *
 * How the pieces fit:
 * - `serve` is the one long-lived process. It owns the Unix socket (0600, peers must be root or its own uid),
 *   the per-daemon store (latest handover state + descriptors; the non-descriptor part is persisted to
 *   --state-dir) and it starts and watches the daemons itself.
 * - `run`, `restart`, `stop` and `status` are thin clients: each sends one Control frame to `serve` and prints
 *   the reply. `run` therefore returns once the daemon is RUNNING; the daemon is `serve`'s child, started
 *   detached so it outlives a supervisor restart.
 * - A daemon started with `--supervisor` opens a Link, a connection that stays open: its EOF tells `serve` the
 *   daemon is gone even if it is not `serve`'s child. On it the daemon sends its full state (SaveState + fds)
 *   after FUSE INIT, after every Mount/Umount and on SendFuseFd, and, before each reply that changes its
 *   passthrough tables, a StateDelta (new nodes/handles with their fds, lookups, removals): a SIGKILLed daemon
 *   cannot send anything, so the supervisor must already hold every nodeid and fh the kernel was told about.
 *   A successor fetches the result (FetchState) during Takeover.
 * - Hot upgrade and failover (handover.ts): the successor is started before the handover; `serve` keeps one
 *   standby successor per daemon waiting in INIT (standby-pool.ts), so a failover only costs Takeover + Start.
 * - Reconnect protocol after a supervisor restart: `serve --state-dir DIR` reloads every daemon record, marks
 *   its descriptors lost, and watches the recorded pids. Live daemons' links reconnect (they retry every
 *   500 ms); on a Link from a daemon whose descriptors are lost, `serve` sends RequestState and the daemon
 *   answers with SaveState, after which it can be upgraded or failed over again.
 * Wire format: proto/nydus/supervisor/v1/supervisor.proto; state: handover.proto; the daemon-side client is
 * daemon/src/upgrade/. Not done here: mounting, FUSE, filesystems (all in the daemon).
 */
export { Supervisor, SupervisorOptions, DaemonStatusView } from './supervisor';
export { callSupervisor } from './control-client';
export { DaemonRecord, HandoverReport } from './store';
