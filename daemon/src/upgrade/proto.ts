/**
 * Loads the supervisor protos (proto/nydus/supervisor/v1) with protobufjs at run time and turns messages into
 * plain objects: 64-bit integers become numbers (the project's native layer already carries dev/ino as doubles),
 * enums stay numbers, absent fields get their defaults. Nothing here knows about sockets or files.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';

const PROTO_FILES = ['nydus/supervisor/v1/handover.proto', 'nydus/supervisor/v1/supervisor.proto'];

function protoDir(): string {
  const candidates = [
    path.resolve(__dirname, '../../../../proto'), // dist/daemon/src/upgrade
    path.resolve(__dirname, '../../../proto'), // daemon/src/upgrade (ts-node, tests from source)
  ];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, PROTO_FILES[0])));
  if (!found) throw new Error(`Cannot find the supervisor protos (looked in ${candidates.join(', ')})`);
  return found;
}

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (!root) {
    const dir = protoDir();
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
    root.loadSync(PROTO_FILES, { keepCase: false });
    root.resolveAll();
  }
  return root;
}

export function messageType(name: string): protobuf.Type {
  return loadRoot().lookupType(`nydus.supervisor.v1.${name}`);
}

/**
 * Generates the encoder, decoder, verifier and converters of every message type now. protobufjs builds them
 * lazily, per type, on first use: a successor would otherwise pay about 12 ms of code generation in the middle
 * of a takeover, for the nested types only a real state contains.
 */
export function prepareAllTypes(): void {
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type) child.setup();
      if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) visit(child);
    }
  };
  visit(loadRoot());
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: Buffer, defaults: true, arrays: true, oneofs: true };

/** Encodes a plain object as message `name`; throws with the field that is wrong. */
export function encodeMessage(name: string, value: object): Buffer {
  const type = messageType(name);
  const problem = type.verify(value);
  if (problem) throw new TypeError(`Invalid ${name}: ${problem}`);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** Decodes message `name`; throws a TypeError on malformed bytes. */
export function decodeMessage<T>(name: string, bytes: Uint8Array): T {
  const type = messageType(name);
  try {
    return type.toObject(type.decode(bytes), TO_OBJECT) as T;
  } catch (err) {
    throw new TypeError(`Malformed ${name}: ${(err as Error).message}`);
  }
}
