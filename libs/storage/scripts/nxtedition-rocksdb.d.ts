// Types for the parts of `@nxtedition/rocksdb` (abstract-level 1 API) that
// the engine benchmark uses. The package ships none. Measurement only: the
// library itself uses `rocksdb` (see ../README.md, "Engine choice").
declare module '@nxtedition/rocksdb' {
  export interface RocksLevelOptions {
    keyEncoding?: 'buffer';
    valueEncoding?: 'buffer';
    compression?: boolean;
    walCompression?: boolean;
  }

  export interface RocksIterator {
    nextv(size: number): Promise<[Buffer, Buffer][]>;
    close(): Promise<void>;
  }

  export class RocksLevel {
    constructor(location: string, options?: RocksLevelOptions);
    open(): Promise<void>;
    close(): Promise<void>;
    batch(operations: { type: 'put'; key: Buffer; value: Buffer }[], options: { sync: boolean }): Promise<void>;
    iterator(options: { gte?: Buffer; lt?: Buffer }): RocksIterator;
  }
}
