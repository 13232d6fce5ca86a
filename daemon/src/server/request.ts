/**
 * One FUSE request as the dispatcher sees it: the decoded header, the raw body, and the ways to answer it.
 * A request is answered exactly once; later answers (a handler finishing after an error reply) are dropped.
 * errno mapping happens here, in fail(), and nowhere else.
 */
import { encodeOutHeader, InHeader, IN_HEADER_SIZE, OUT_HEADER_SIZE } from '../abi/structs';
import { E, errnoOf } from '../fs/errno';
import type { RequestContext } from '../fs/filesystem';

export interface ReplyChannel {
  /** Writes one whole reply (the header and body pieces in one writev). */
  send(pieces: Buffer[], req: Request): void;
  /** Called once per request when it has been answered (or needs no answer). */
  finished(req: Request, errno: number, bytes: number): void;
  /** The request is answered elsewhere (see Request.handedOver): no longer in flight here, and not counted. */
  handedOver(req: Request): void;
  /** A non-filesystem error escaped a handler: a bug, logged, answered with EIO. */
  bug(req: Request, err: unknown): void;
}

export class Request {
  answered = false;
  readonly started = process.hrtime.bigint();

  constructor(readonly h: InHeader, readonly buf: Buffer, private readonly channel: ReplyChannel) {}

  get ctx(): RequestContext {
    return { uid: this.h.uid, gid: this.h.gid, pid: this.h.pid };
  }

  /** Offset of the body (after the header and any request extensions). */
  get bodyOffset(): number {
    return IN_HEADER_SIZE;
  }

  /** Body length available, excluding trailing extensions. */
  get bodyEnd(): number {
    return this.buf.length - this.h.totalExtlen * 8;
  }

  /** Replies with a body of `size` bytes filled by `encode(buffer, offset)`. */
  reply(size: number, encode?: (b: Buffer, off: number) => void): void {
    if (this.answered) return;
    const b = Buffer.allocUnsafe(OUT_HEADER_SIZE + size);
    if (encode) encode(b, OUT_HEADER_SIZE);
    else b.fill(0, OUT_HEADER_SIZE);
    this.sendPieces([b], OUT_HEADER_SIZE + size, size);
  }

  /** Replies with raw data (READ, READLINK, GETXATTR values, directory listings). */
  replyData(data: Buffer): void {
    if (this.answered) return;
    const header = Buffer.allocUnsafe(OUT_HEADER_SIZE);
    this.sendPieces(data.length ? [header, data] : [header], OUT_HEADER_SIZE + data.length, data.length);
  }

  /** An error reply: the bare header with -errno. */
  error(errno: number): void {
    if (this.answered) return;
    this.answered = true;
    const b = Buffer.allocUnsafe(OUT_HEADER_SIZE);
    encodeOutHeader(b, OUT_HEADER_SIZE, -errno, this.h.unique);
    this.channel.send([b], this);
    this.channel.finished(this, errno, 0);
  }

  /** Maps any thrown value to an errno reply. */
  fail(err: unknown): void {
    const errno = errnoOf(err);
    if (errno === undefined) {
      this.channel.bug(this, err);
      this.error(E.EIO);
    } else {
      this.error(errno);
    }
  }

  /** Sends a complete, prebuilt reply (out header included), e.g. one recorded before a crash. */
  replyRaw(reply: Buffer): void {
    if (this.answered) return;
    this.answered = true;
    reply.writeBigUInt64LE(this.h.unique, 8);
    this.channel.send([reply], this);
    this.channel.finished(this, -reply.readInt32LE(4), reply.length - OUT_HEADER_SIZE);
  }

  /** A READ the read threads took over (ReadOffload.mainRead): they answer it and count it. */
  handedOver(): void {
    if (this.answered) return;
    this.answered = true;
    this.channel.handedOver(this);
  }

  /** For requests that get no reply (FORGET, BATCH_FORGET, INTERRUPT). */
  noReply(): void {
    if (this.answered) return;
    this.answered = true;
    this.channel.finished(this, 0, 0);
  }

  private sendPieces(pieces: Buffer[], len: number, bytes: number): void {
    this.answered = true;
    encodeOutHeader(pieces[0], len, 0, this.h.unique);
    this.channel.send(pieces, this);
    this.channel.finished(this, 0, bytes);
  }
}

type Maybe<T> = T | Promise<T>;

function isPromise<T>(v: Maybe<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/**
 * Runs a filesystem call and hands its result to `ok`, synchronously when the backend answered
 * synchronously (the common case for passthrough_fs), through the promise otherwise. Any throw fails the request.
 */
export function settle<T>(req: Request, call: () => Maybe<T>, ok: (v: T) => void): void {
  let r: Maybe<T>;
  try {
    r = call();
  } catch (err) {
    req.fail(err);
    return;
  }
  if (isPromise(r)) {
    r.then((v) => {
      try {
        ok(v);
      } catch (err) {
        req.fail(err);
      }
    }, (err) => req.fail(err));
  } else {
    try {
      ok(r);
    } catch (err) {
      req.fail(err);
    }
  }
}
