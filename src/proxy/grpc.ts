/**
 * What the load balancer knows about gRPC: which requests are gRPC, which target groups take
 * them (the 464 rule), and the gRPC shape of the answers Switchyard gives itself.
 *
 * Owns: the definitions only (docs/decisions/0013-https-http2-grpc.md). No I/O, never throws.
 */
import type { ClientRequest } from '../listener/client-request.js';
import type { ProtocolVersion } from '../config/types.js';

/** `application/grpc`, `application/grpc+proto`, … (not `application/grpc-web`). */
export function isGrpcContentType(v: string | undefined): boolean {
  return v !== undefined && (v === 'application/grpc' || v.startsWith('application/grpc+') || v.startsWith('application/grpc;'));
}

/** A gRPC request: HTTP/2 with a gRPC content-type (gRPC does not run over HTTP/1.1). */
export function isGrpcRequest(req: ClientRequest): boolean {
  if (!req.http2) return false;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 12 && name.toLowerCase() === 'content-type') return isGrpcContentType(raw[i + 1]!.trim().toLowerCase());
  }
  return false;
}

/**
 * Whether a request may go to a group of this protocol version: gRPC requests to GRPC groups
 * only, and GRPC groups take nothing else (SPEC §5: 464 otherwise). HTTP1 and HTTP2 groups
 * take any non-gRPC request, from HTTP/1.1 or HTTP/2 clients.
 */
export function protocolFits(req: ClientRequest, version: ProtocolVersion): boolean {
  // Only an HTTP/2 request can be gRPC: HTTP/1.1 requests to HTTP1 groups cost one check.
  if (version !== 'GRPC' && !req.http2) return true;
  return isGrpcRequest(req) === (version === 'GRPC');
}

/**
 * HTTP status → gRPC status for answers Switchyard gives itself: gRPC's own HTTP mapping
 * (doc/http-grpc-status-mapping.md, as Envoy applies it) for the statuses it names, and
 * RESOURCE_EXHAUSTED for Switchyard's size limits, UNIMPLEMENTED for 464.
 */
export function grpcStatusFor(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
    case 464:
      return 12; // UNIMPLEMENTED
    case 413:
    case 414:
    case 431:
      return 8; // RESOURCE_EXHAUSTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** gRPC's percent-encoding of grpc-message: printable ASCII other than '%' stays as it is. */
export function grpcMessage(text: string): string {
  let out = '';
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
