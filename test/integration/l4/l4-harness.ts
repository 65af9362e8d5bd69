/**
 * Real Layer 4 targets and clients on 127.0.0.1 for the TCP and UDP listener tests: a TCP echo
 * target that says its name first, a raw TCP target that records every byte per connection, a
 * UDP echo target that prefixes replies with its name, and config builders.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Config, ListenerConfig, TargetGroupConfig } from '../../../src/config/types.js';
import { waitFor } from '../harness/index.js';

export interface TcpTarget {
  readonly name: string;
  readonly port: number;
  readonly server: net.Server;
  /** Sockets accepted, in order (open or closed). */
  readonly sockets: net.Socket[];
  /** Bytes received on each accepted connection, in order. */
  readonly received: Buffer[][];
  /** Connections currently open. */
  open(): number;
  close(): Promise<void>;
}

export interface TcpTargetOptions {
  /** Echo every byte back (default true); false: only record. */
  readonly echo?: boolean;
  /** Write `<name>\n` first on every connection (default false). */
  readonly greet?: boolean;
  /** Do not read at all until resumed (socket paused): a stalled target. */
  readonly paused?: boolean;
  /** Called with each accepted socket after the default handlers are installed. */
  readonly onSocket?: (socket: net.Socket) => void;
}

export function startTcpTarget(name: string, o: TcpTargetOptions = {}): Promise<TcpTarget> {
  const sockets: net.Socket[] = [];
  const received: Buffer[][] = [];
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: o.paused === true }, (socket) => {
    sockets.push(socket);
    const chunks: Buffer[] = [];
    received.push(chunks);
    socket.on('error', () => {});
    if (o.greet === true) socket.write(`${name}\n`);
    if (o.echo === false) {
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => socket.end());
    } else {
      socket.on('data', (c: Buffer) => chunks.push(c));
      // pipe() keeps backpressure and ends our side after the client's FIN.
      socket.pipe(socket);
    }
    o.onSocket?.(socket);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        name,
        port: (server.address() as AddressInfo).port,
        server,
        sockets,
        received,
        open: () => sockets.filter((s) => !s.closed).length,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed): connections are refused. */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface TcpClient {
  readonly socket: net.Socket;
  /** Everything received so far. */
  data(): Buffer;
  text(): string;
  readonly ended: Promise<void>;
  readonly closed: Promise<boolean>;
  isClosed(): boolean;
}

export function connectTcp(port: number): Promise<TcpClient> {
  return new Promise((resolve, reject) => {
    // Not half-open: a FIN from the listener closes this client, as most clients do.
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<void>((r) => socket.once('end', () => r()));
    const closedP = new Promise<boolean>((r) =>
      socket.once('close', (hadError) => {
        closed = true;
        r(hadError);
      }),
    );
    socket.on('error', () => {});
    socket.once('connect', () =>
      resolve({
        socket,
        data: () => Buffer.concat(chunks),
        text: () => Buffer.concat(chunks).toString('latin1'),
        ended,
        closed: closedP,
        isClosed: () => closed,
      }),
    );
    socket.once('error', reject);
  });
}

/** Connects, waits for the greeting line of a `greet` target, and returns the target's name. */
export async function greetingOf(port: number): Promise<{ client: TcpClient; name: string }> {
  const client = await connectTcp(port);
  const line = await waitFor(() => {
    const t = client.text();
    const nl = t.indexOf('\n');
    return nl >= 0 ? t.slice(0, nl) : null;
  }, 3000, 'greeting');
  return { client, name: line };
}

export interface UdpTarget {
  readonly name: string;
  readonly port: number;
  readonly socket: dgram.Socket;
  /** Datagrams received, as `address:port message`. */
  readonly seen: string[];
  close(): Promise<void>;
}

/** Answers every datagram with `<name>:<datagram>` to its sender, after `replyDelayMs` if given. */
export function startUdpTarget(name: string, o: { replyDelayMs?: number } = {}): Promise<UdpTarget> {
  const socket = dgram.createSocket('udp4');
  const seen: string[] = [];
  socket.on('message', (msg, rinfo) => {
    seen.push(`${rinfo.address}:${rinfo.port} ${msg.toString()}`);
    const reply = (): void => {
      try {
        socket.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address);
      } catch {
        // Closed meanwhile.
      }
    };
    if (o.replyDelayMs === undefined) reply();
    else setTimeout(reply, o.replyDelayMs);
  });
  socket.on('error', () => {});
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      resolve({
        name,
        port: socket.address().port,
        socket,
        seen,
        close: () => new Promise<void>((r) => socket.close(() => r())),
      });
    });
  });
}

export interface UdpClient {
  readonly socket: dgram.Socket;
  readonly replies: string[];
  send(text: string): void;
  close(): Promise<void>;
}

export function udpClient(port: number): Promise<UdpClient> {
  const socket = dgram.createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (msg) => replies.push(msg.toString()));
  socket.on('error', () => {});
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      resolve({
        socket,
        replies,
        send: (text) => socket.send(text, port, '127.0.0.1'),
        close: () => new Promise<void>((r) => socket.close(() => r())),
      });
    });
  });
}

/** One L4 listener `l4` on 127.0.0.1:0 forwarding to group `g` over loopback `ports`. */
export function l4Config(
  protocol: 'TCP' | 'UDP',
  ports: readonly number[],
  o: { listener?: Partial<ListenerConfig>; group?: Partial<TargetGroupConfig>; settings?: Config['settings'] } = {},
): Config {
  return {
    ...(o.settings ? { settings: o.settings } : {}),
    listeners: [{ name: 'l4', protocol, host: '127.0.0.1', port: 0, defaultAction: { forward: { targetGroup: 'g' } }, ...o.listener }],
    targetGroups: [
      {
        name: 'g',
        protocol,
        targets: ports.map((port) => ({ host: '127.0.0.1', port })),
        healthCheck: { enabled: false },
        ...o.group,
      },
    ],
  };
}
