/**
 * The tunnel behind a WebSocket upgrade: bytes both ways, with backpressure, until either side
 * closes.
 *
 * Owns: piping two raw sockets and tearing both down together. The target keeps the tunnel
 * in its `tunnels` set so draining can close it after the deregistration delay.
 */
import type net from 'node:net';
import type { Target } from '../targets/target.js';

export function openTunnel(client: net.Socket, upstream: net.Socket, target: Target, onClose: () => void): void {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    target.tunnels.delete(upstream);
    client.destroy();
    upstream.destroy();
    onClose();
  };
  target.tunnels.add(upstream);
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
  // pipe() pauses the source when the destination's write() returns false.
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
  upstream.resume();
}
