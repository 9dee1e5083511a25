/**
 * One gRPC channel (one HTTP/2 connection) per broker address, shared by
 * every service client the SDK makes for that address, with Braid's channel
 * settings: raised flow-control windows and 64 MiB messages.
 */
import { Channel, credentials as grpcCredentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions, Client, ClientOptions } from '@grpc/grpc-js';
import { channelDefaults } from './defaults.js';

/** Connection settings shared by `Admin` and `Producer`. */
export interface ConnectionOptions {
  /** Transport credentials (default: insecure, plaintext HTTP/2). */
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options; they override Braid's. */
  channelOptions?: ChannelOptions;
}

/** The channel options Braid uses unless overridden. */
export function braidChannelOptions(overrides: ChannelOptions = {}): ChannelOptions {
  return {
    'grpc-node.flow_control_window': channelDefaults.flowControlWindowBytes,
    'grpc.max_receive_message_length': channelDefaults.maxMessageBytes,
    'grpc.max_send_message_length': channelDefaults.maxMessageBytes,
    ...overrides,
  };
}

type ClientConstructor<T extends Client> = new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>) => T;

/** Channels by address, and typed clients over them. */
export class ChannelPool {
  private readonly channels = new Map<string, Channel>();
  private readonly credentials: ChannelCredentials;
  private readonly options: ChannelOptions;
  private closed = false;

  constructor(options: ConnectionOptions = {}) {
    this.credentials = options.credentials ?? grpcCredentials.createInsecure();
    this.options = braidChannelOptions(options.channelOptions);
  }

  /** The channel to `address` (host:port), opened on first use. */
  channel(address: string): Channel {
    if (this.closed) throw new Error('channel pool is closed');
    let channel = this.channels.get(address);
    if (!channel) {
      channel = new Channel(address, this.credentials, this.options);
      this.channels.set(address, channel);
    }
    return channel;
  }

  /** A `Client` of type `T` speaking over the shared channel to `address`. */
  client<T extends Client>(address: string, constructor: ClientConstructor<T>): T {
    return new constructor(address, this.credentials, { channelOverride: this.channel(address) });
  }

  /** Closes every channel; calls still running on them fail with CANCELLED/UNAVAILABLE. */
  close(): void {
    this.closed = true;
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }
}
