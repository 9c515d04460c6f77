import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { Duplex } from 'node:stream';
import { ident } from '../client.js';
import { formatLsn } from './lsn.js';

/** `both` (copy-both, used by replication) is in pg-copy-streams but not in its type declarations. */
const both = (copyStreams as unknown as { both: (sql: string, options: object) => pg.Submittable }).both;

const PG_EPOCH_MS = 946_684_800_000;

export type ReplicationFrame =
  { kind: 'data'; start: bigint; end: bigint; payload: Buffer } | { kind: 'keepalive'; walEnd: bigint; replyRequested: boolean };

/**
 * The copy-both stream of `START_REPLICATION ... LOGICAL` on a replication connection: frames in,
 * standby status updates out. Nothing is acknowledged unless `sendStatus` is called.
 */
export class ReplicationStream {
  private constructor(private readonly stream: Duplex) {}

  /** Starts streaming a slot from an LSN with pgoutput protocol 1 and a publication. */
  static start(client: pg.Client, slot: string, from: bigint, publication: string): ReplicationStream {
    const publicationLiteral = `'${ident(publication).replace(/'/g, "''")}'`;
    const sql = `START_REPLICATION SLOT ${ident(slot)} LOGICAL ${formatLsn(from)} (proto_version '1', publication_names ${publicationLiteral})`;
    const stream = client.query(both(sql, { alignOnCopyDataFrame: true, readableObjectMode: true })) as unknown as Duplex;
    return new ReplicationStream(stream);
  }

  /** Frames as they arrive; ends when the server ends the stream, throws on its errors. */
  async *frames(): AsyncGenerator<ReplicationFrame> {
    for await (const chunk of this.stream as AsyncIterable<Buffer>) {
      const tag = chunk[0];
      if (tag === 0x77) {
        yield { kind: 'data', start: chunk.readBigUInt64BE(1), end: chunk.readBigUInt64BE(9), payload: chunk.subarray(25) };
      } else if (tag === 0x6b) {
        yield { kind: 'keepalive', walEnd: chunk.readBigUInt64BE(1), replyRequested: chunk[17] === 1 };
      }
    }
  }

  /** Standby status update: the server may release WAL up to `flushed`. */
  sendStatus(flushed: bigint): void {
    const message = Buffer.alloc(34);
    message[0] = 0x72;
    message.writeBigUInt64BE(flushed, 1);
    message.writeBigUInt64BE(flushed, 9);
    message.writeBigUInt64BE(flushed, 17);
    message.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
    message[33] = 0;
    if (!this.stream.destroyed && this.stream.writable) this.stream.write(message);
  }
}
