/**
 * Copying target state from the cluster primary's target groups to a worker's: the primary's
 * groups are the truth for membership (admin registrations, draining) and for the health flags
 * (its checker is the only one that runs); a worker's groups are copies it routes by.
 *
 * Owns: `healthOf` / `snapshotGroups` (primary side: Target → message data) and `applyHealth` /
 * `reconcileGroup` (worker side: message data → Target flags and membership). Worker-local
 * state is never overwritten: in-flight counts, connection pools, and draining that is already
 * under way (a worker finishes its own in-flight requests). No I/O, no timers.
 */
import type { Target } from '../targets/target.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import type { GroupHealth, TargetHealth } from './messages.js';

/** The message form of one target, at monotonic time `nowMs` of this process. */
export function healthOf(t: Target, nowMs: number): TargetHealth {
  return {
    id: t.id,
    host: t.host,
    port: t.port,
    weight: t.configuredWeight,
    draining: t.draining,
    activeHealthy: t.activeHealthy,
    passiveEjected: t.passiveEjected,
    reason: t.reason,
    healthyForMs: t.usable && t.healthySinceMs > 0 ? Math.max(0, nowMs - t.healthySinceMs) : -1,
  };
}

/** A full snapshot of every group (sent with every prepare and commit). */
export function snapshotGroups(groups: Iterable<TargetGroupRuntime>, nowMs: number): GroupHealth[] {
  const out: GroupHealth[] = [];
  for (const g of groups) {
    const targets: TargetHealth[] = [];
    for (const t of g.targets.values()) if (!t.removed) targets.push(healthOf(t, nowMs));
    out.push({ name: g.name, targets });
  }
  return out;
}

/**
 * Sets one target's health flags from the primary's. Returns true when its derived state
 * changed (the caller then refreshes the group once). `healthySinceMs` is set only when the
 * target becomes healthy here, so slow start sees one stable start per healthy period.
 */
export function applyHealth(t: Target, h: TargetHealth, nowMs: number): boolean {
  const before = t.state;
  const flagsChanged = t.activeHealthy !== h.activeHealthy || t.passiveEjected !== h.passiveEjected;
  t.activeHealthy = h.activeHealthy;
  t.passiveEjected = h.passiveEjected;
  t.reason = h.reason;
  const after = t.state;
  if (after === 'healthy' && (before !== 'healthy' || t.healthySinceMs === 0) && h.healthyForMs >= 0) {
    t.healthySinceMs = Math.max(1, nowMs - h.healthyForMs);
  }
  return flagsChanged || after !== before;
}

/**
 * Makes a worker's group match the primary's snapshot of it: registers what the primary has
 * (admin registrations), drains what it drains or no longer has, adopts weights and flags,
 * then refreshes the usable set once.
 */
export function reconcileGroup(g: TargetGroupRuntime, state: GroupHealth, nowMs: number): void {
  const wanted = new Set<string>();
  for (const h of state.targets) {
    wanted.add(h.id);
    let t = g.targets.get(h.id);
    if (h.draining) {
      if (t !== undefined && !t.draining) g.deregister(h.id, false);
      continue;
    }
    if (t === undefined || t.draining || t.removed) {
      t = g.register(h.host, h.port, h.weight, false);
    } else if (t.configuredWeight !== h.weight) {
      t.configuredWeight = h.weight;
      t.weight = h.weight;
    }
    applyHealth(t, h, nowMs);
  }
  for (const [id, t] of g.targets) if (!wanted.has(id) && !t.draining) g.deregister(id, false);
  g.refresh();
}
