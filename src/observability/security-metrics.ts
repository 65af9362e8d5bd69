/**
 * Metrics of the hardening features, registered on the instance's Prometheus registry:
 *
 * - `switchyard_desync_requests_total{listener, classification, reason, outcome}`: requests that
 *   were not compliant (desync mitigation, docs/decisions/0009), with what was done with them
 *   (`refused`, `forwarded_then_closed`, `forwarded`).
 * - `switchyard_protection_hits_total{listener, rule, protection, name, action}`: protection hits
 *   (`protection` ip_filter | rate_limit | waf; `name` the WAF rule, `deny`/`allow`, or
 *   `rate_limit`; `rule` the rule priority, or "" for the listener's own protection; `action`
 *   block | count).
 * - `switchyard_rejected_connections_total{listener, reason}`: connections closed on accept
 *   (`max_connections`).
 *
 * Owns: the label sets and counting. Counting is a few Map lookups ending in a pre-bound cell
 * (created the first time a label combination occurs, then reused), and the values move into
 * prom-client at scrape time, like metrics.ts does. Never throws; no I/O.
 */
import { Counter, type Registry } from 'prom-client';
import type { Classification } from '../proxy/framing.js';
import type { DesyncOutcome } from '../proxy/dispatch.js';
import type { ProtectionHit } from '../protection/protection.js';

class Cell {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
  reported: number;
  constructor(labels: Record<string, string>) {
    this.labels = labels;
    this.count = 0;
    this.reported = 0;
  }
}

/** A counter whose label sets are cells in nested maps (one level per varying key). */
class CellCounter {
  readonly cells: Cell[];
  constructor(registry: Registry, name: string, help: string, labelNames: string[]) {
    const cells: Cell[] = [];
    this.cells = cells;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Counter<string>) {
        for (let i = 0; i < cells.length; i++) {
          const c = cells[i]!;
          if (c.count === c.reported) continue;
          this.inc(c.labels, c.count - c.reported);
          c.reported = c.count;
        }
      },
    });
  }
}

type Nested = Map<unknown, Nested | Cell>;

/** The map under `key` in `m`, created when missing. */
function level(m: Nested, key: unknown): Nested {
  let next = m.get(key) as Nested | undefined;
  if (next === undefined) {
    next = new Map();
    m.set(key, next);
  }
  return next;
}

/** The cell under `key` in `m`, or undefined (the caller creates it with its labels). */
function cell(m: Nested, key: unknown): Cell | undefined {
  return m.get(key) as Cell | undefined;
}

function addCell(m: Nested, key: unknown, counter: CellCounter, labels: Record<string, string>): Cell {
  const c = new Cell(labels);
  counter.cells.push(c);
  m.set(key, c);
  return c;
}

export class SecurityMetrics {
  readonly #desync: CellCounter;
  readonly #hits: CellCounter;
  readonly #rejected: CellCounter;
  readonly #desyncCells: Nested;
  readonly #hitCells: Nested;
  readonly #rejectedCells: Nested;

  constructor(registry: Registry) {
    this.#desync = new CellCounter(
      registry,
      'switchyard_desync_requests_total',
      'Requests whose framing was not compliant (desync mitigation), by listener, classification (acceptable, ambiguous, severe), reason and outcome (refused, forwarded_then_closed, forwarded).',
      ['listener', 'classification', 'reason', 'outcome'],
    );
    this.#hits = new CellCounter(
      registry,
      'switchyard_protection_hits_total',
      'Protection hits, by listener, rule (priority; "" for the listener\'s own protection), protection (ip_filter, rate_limit, waf), name (WAF rule, deny/allow, rate_limit) and action (block, count).',
      ['listener', 'rule', 'protection', 'name', 'action'],
    );
    this.#rejected = new CellCounter(
      registry,
      'switchyard_rejected_connections_total',
      'Client connections closed as they were accepted, by listener and reason (max_connections).',
      ['listener', 'reason'],
    );
    this.#desyncCells = new Map();
    this.#hitCells = new Map();
    this.#rejectedCells = new Map();
  }

  onDesync(listener: string, verdict: Classification, outcome: DesyncOutcome): void {
    // Verdicts are pre-built constants, so the object itself is a key. Nothing is allocated
    // once a label combination has been seen.
    const m = level(level(this.#desyncCells, listener), verdict);
    const c = cell(m, outcome) ?? addCell(m, outcome, this.#desync, { listener, classification: verdict.tier, reason: verdict.reason, outcome });
    c.count++;
  }

  onProtection(listener: string, scope: number, hit: ProtectionHit): void {
    // Keyed by the label values (not the hit object, which a reload rebuilds).
    const m = level(level(level(level(this.#hitCells, listener), scope), hit.protection), hit.name);
    const c =
      cell(m, hit.action) ??
      addCell(m, hit.action, this.#hits, { listener, rule: scope < 0 ? '' : String(scope), protection: hit.protection, name: hit.name, action: hit.action });
    c.count++;
  }

  onConnectionRejected(listener: string, reason: 'max_connections'): void {
    const m = level(this.#rejectedCells, listener);
    const c = cell(m, reason) ?? addCell(m, reason, this.#rejected, { listener, reason });
    c.count++;
  }
}
