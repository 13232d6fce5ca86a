/**
 * Where blob bytes come from. A BlobBackend reads raw (possibly compressed) ranges of blobs addressed by
 * their index in the image's blob table / device table; it knows nothing of chunks, codecs or caching.
 */
export interface BlobBackend {
  /**
   * Exactly `length` bytes at `offset` of blob `blobIndex`; a short blob is a RafsFormatError. `forReply`: the
   * bytes go into a READ reply and nowhere else, so the buffer may come from the reply buffer pool.
   */
  readAt(blobIndex: number, offset: number, length: number, forReply?: boolean): Promise<Buffer>;
  /** Blob size in bytes. */
  size(blobIndex: number): Promise<number>;
  /** A blob held in a local file: its fd (open until close()) and size; undefined when it is not one. */
  localFile?(blobIndex: number): Promise<{ fd: number; size: number } | undefined>;
  close(): Promise<void>;
}
