/**
 * The supervisor's socket: listens (0600), accepts without blocking, checks each peer's uid (SO_PEERCRED: root
 * or the supervisor's own uid) and runs one conversation per connection, chosen by its first frame: SaveState,
 * FetchState, Link or Control (proto/nydus/supervisor/v1/supervisor.proto). Anything malformed, oversized, slow
 * or carrying undeclared descriptors is refused with a logged reason; the descriptors are closed and the server
 * keeps running. What to do with a Link or a Control request is the owner's business (hooks).
 */
import * as fs from 'fs';
import { native, POLL_READABLE, PollHandle } from '../../daemon/src/native';
import { Logger } from '../../daemon/src/log';
import { closeAll, errnoName, FramedChannel } from '../../daemon/src/upgrade/channel';
import { Frame, FrameLimits, FrameType, ProtocolError } from '../../daemon/src/upgrade/frame';
import { decodeMessage, encodeMessage } from '../../daemon/src/upgrade/proto';
import { checkFdCount, decodeHandover, encodeHandover } from '../../daemon/src/upgrade/state-codec';
import type { StateDeltaMessage } from '../../daemon/src/upgrade/table-tracker';
import { DEFAULT_STEP_TIMEOUT_MS, expectAck, receiveFds, sendAck, sendWithFds } from '../../daemon/src/upgrade/transfer';
import { DaemonStore } from './store';

export interface LinkInfo {
  daemonId: string;
  pid: number;
  apiSock: string;
}

export interface ServerHooks {
  /** A daemon linked; `channel` stays open until it dies (or the supervisor closes it). */
  onLink(link: LinkInfo, channel: FramedChannel): void;
  /** Whether a successor fetching `id` must send FUSE_NOTIFY_RESEND (its predecessor died). */
  resendFor(id: string): boolean;
  onControl(command: string, args: unknown): Promise<unknown>;
}

export interface ServerOptions {
  sockPath: string;
  store: DaemonStore;
  hooks: ServerHooks;
  logger: Logger;
  limits?: Partial<FrameLimits>;
  /** How long a new connection may take to send its first frame. */
  firstFrameTimeoutMs?: number;
  stepTimeoutMs?: number;
}

interface SaveStateMessage {
  daemonId: string;
  envelope: Buffer;
  fdCount: number;
}

export class SupervisorServer {
  private listenFd = -1;
  private poll: PollHandle | null = null;
  private readonly connections = new Set<FramedChannel>();
  private readonly uid = process.getuid?.() ?? 0;
  /** Counters a test or status can read. */
  readonly stats = { accepted: 0, refused: 0, saved: 0, fetched: 0 };

  constructor(private readonly options: ServerOptions) {}

  listen(): void {
    const { sockPath } = this.options;
    removeStaleSocket(sockPath);
    const oldMask = native.umask(0o177); // bind() creates the socket file 0600
    const fd = native.unixListen(sockPath, 128);
    native.umask(oldMask);
    if (fd < 0) throw new Error(`Cannot listen on ${sockPath}: ${errnoName(fd)}`);
    fs.chmodSync(sockPath, 0o600);
    this.listenFd = fd;
    const handle = native.pollStart(fd, POLL_READABLE, () => this.acceptAll());
    if (typeof handle === 'number') throw new Error(`Cannot watch ${sockPath}: ${errnoName(handle)}`);
    this.poll = handle;
  }

  close(): void {
    if (this.poll) native.pollClose(this.poll);
    this.poll = null;
    if (this.listenFd >= 0) native.close(this.listenFd);
    this.listenFd = -1;
    for (const channel of this.connections) channel.close('supervisor closing');
    this.connections.clear();
  }

  private acceptAll(): void {
    for (;;) {
      const fd = native.accept(this.listenFd);
      if (fd < 0) return; // EAGAIN, or a transient error: the next readiness event retries
      const cred = native.peerCred(fd);
      if (typeof cred === 'number' || (cred.uid !== 0 && cred.uid !== this.uid)) {
        this.stats.refused += 1;
        this.options.logger.warn('refused a connection from a foreign user', { cred: typeof cred === 'number' ? errnoName(cred) : cred });
        native.close(fd);
        continue;
      }
      this.stats.accepted += 1;
      const channel = new FramedChannel(fd, this.options.limits ?? {}, `peer pid ${cred.pid}`);
      this.connections.add(channel);
      channel.onClose(() => this.connections.delete(channel));
      this.converse(channel, cred.pid).catch((err: Error) => this.refuse(channel, err));
    }
  }

  private refuse(channel: FramedChannel, err: Error): void {
    this.stats.refused += 1;
    this.options.logger.warn('refused a peer', { peer: channel.label, reason: err.message });
    channel.close(err.message);
  }

  private async converse(channel: FramedChannel, peerPid: number): Promise<void> {
    const first = await channel.receive(this.options.firstFrameTimeoutMs ?? 5_000);
    switch (first.type) {
      case FrameType.SaveState:
        return this.save(channel, first);
      case FrameType.FetchState:
        return this.fetch(channel, first);
      case FrameType.Link:
        return this.link(channel, first, peerPid);
      case FrameType.Control:
        return this.control(channel, first);
      default:
        closeAll(first.fds);
        throw new ProtocolError(`a conversation cannot start with a ${FrameType[first.type]} frame`);
    }
  }

  private async save(channel: FramedChannel, first: Frame): Promise<void> {
    await this.storeState(channel, first);
    channel.close();
  }

  /** Receives a SaveState transfer, stores it and acknowledges; false (after a refusal Ack) if it was bad. */
  private async storeState(channel: FramedChannel, first: Frame): Promise<boolean> {
    let message: SaveStateMessage;
    try {
      message = decodeMessage<SaveStateMessage>('SaveState', first.body);
    } catch (err) {
      closeAll(first.fds);
      throw err;
    }
    const fds = await receiveFds(channel, first, message.fdCount, this.stepTimeout);
    try {
      const decoded = decodeHandover(message.envelope);
      checkFdCount(decoded.state, fds.length);
      if (decoded.state.daemonId !== message.daemonId) {
        throw new ProtocolError(`state of daemon "${decoded.state.daemonId}" sent as "${message.daemonId}"`);
      }
      this.options.store.saveState(message.daemonId, message.envelope, decoded.state, decoded.version, fds);
    } catch (err) {
      closeAll(fds);
      this.options.logger.warn('refused a state', { reason: (err as Error).message });
      await sendAck(channel, false, (err as Error).message).catch(() => undefined);
      this.stats.refused += 1;
      return false;
    }
    this.stats.saved += 1;
    this.options.logger.debug('state stored', { id: message.daemonId, fds: fds.length, bytes: message.envelope.length });
    await sendAck(channel, true);
    return true;
  }

  private async fetch(channel: FramedChannel, first: Frame): Promise<void> {
    closeAll(first.fds);
    if (first.fds.length > 0) throw new ProtocolError('FetchState carries no fds');
    const { daemonId } = decodeMessage<{ daemonId: string }>('FetchState', first.body);
    const record = this.options.store.get(daemonId);
    if (!record?.live || record.fdsLost) {
      const error = record?.fdsLost ? 'descriptors lost (supervisor restarted and the daemon did not send them again)' : 'no state stored';
      await channel.send(FrameType.StateReply, encodeMessage('StateReply', { found: false, error }));
      channel.close();
      return;
    }
    const snapshot = record.live.snapshot();
    const reply = { found: true, envelope: encodeHandover(snapshot.state), fdCount: snapshot.fds.length, resend: this.options.hooks.resendFor(daemonId) };
    // Send duplicates: the record may be replaced (and its fds closed) while this send waits for the socket.
    const copies = snapshot.fds.map((fd) => native.dup(fd));
    try {
      if (copies.some((fd) => fd < 0)) throw new Error(`Cannot duplicate descriptors: ${errnoName(copies.find((fd) => fd < 0) as number)}`);
      await sendWithFds(channel, FrameType.StateReply, 'StateReply', reply, copies);
    } finally {
      closeAll(copies.filter((fd) => fd >= 0));
    }
    await expectAck(channel, `Handing the state of ${daemonId} over`, this.stepTimeout);
    this.stats.fetched += 1;
    channel.close();
  }

  private async link(channel: FramedChannel, first: Frame, peerPid: number): Promise<void> {
    closeAll(first.fds);
    if (first.fds.length > 0) throw new ProtocolError('Link carries no fds');
    const link = decodeMessage<LinkInfo>('Link', first.body);
    if (link.pid !== peerPid) throw new ProtocolError(`link claims pid ${link.pid} but the peer is pid ${peerPid}`);
    this.options.store.ensure(link.daemonId);
    await sendAck(channel, true);
    this.options.hooks.onLink(link, channel);
    await this.serveLink(channel, link);
  }

  /** The link's traffic: full states (acked) and table deltas, until the daemon goes away. */
  private async serveLink(channel: FramedChannel, link: LinkInfo): Promise<void> {
    for (;;) {
      let frame: Frame;
      try {
        frame = await channel.receive(Infinity);
      } catch {
        return; // EOF: the daemon is gone (the manager watches the close)
      }
      if (frame.type === FrameType.SaveState) {
        const first = frame;
        const message = decodeMessage<SaveStateMessage>('SaveState', first.body);
        if (message.daemonId !== link.daemonId) {
          closeAll(first.fds);
          throw new ProtocolError(`daemon "${link.daemonId}" sent a state for "${message.daemonId}"`);
        }
        await this.storeState(channel, first);
      } else if (frame.type === FrameType.StateDelta) {
        const delta = decodeMessage<StateDeltaMessage>('StateDelta', frame.body);
        this.options.store.applyDelta(link.daemonId, delta, frame.fds);
      } else {
        closeAll(frame.fds);
        throw new ProtocolError(`unexpected ${FrameType[frame.type]} frame on a link`);
      }
    }
  }

  private async control(channel: FramedChannel, first: Frame): Promise<void> {
    closeAll(first.fds);
    if (first.fds.length > 0) throw new ProtocolError('Control carries no fds');
    const { command, json } = decodeMessage<{ command: string; json: string }>('Control', first.body);
    let reply: { ok: boolean; error: string; json: string };
    try {
      const result = await this.options.hooks.onControl(command, json ? JSON.parse(json) : {});
      reply = { ok: true, error: '', json: JSON.stringify(result ?? null) };
    } catch (err) {
      reply = { ok: false, error: (err as Error).message, json: '' };
    }
    await channel.send(FrameType.ControlReply, encodeMessage('ControlReply', reply));
    channel.close();
  }

  private get stepTimeout(): number {
    return this.options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  }
}

function removeStaleSocket(sockPath: string): void {
  try {
    if (fs.lstatSync(sockPath).isSocket()) fs.unlinkSync(sockPath);
    else throw new Error(`${sockPath} exists and is not a socket`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
