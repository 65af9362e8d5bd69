/**
 * `switchyard explain --admin URL`: live target states from a running instance.
 *
 * Owns: reading GET {admin}/api/v1/status (with an optional bearer token, a 3 s timeout and a
 * fresh connection that is closed afterwards) and giving explain's local target groups the
 * running instance's targets and states, so the usable set and fail-open are computed by
 * `TargetGroupRuntime` itself rather than re-implemented here.
 * Must not: write to the admin API, or throw (an unreachable admin API is reported).
 */
import http from 'node:http';
import https from 'node:https';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import type { Target, TargetState } from '../targets/target.js';
import type { ExplainReport, Result } from './explain.js';

const ADMIN_TIMEOUT_MS = 3000;

interface LiveTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly state: TargetState;
  readonly reason: string;
  readonly inFlight: number;
}

/**
 * Reads GET {admin}/api/v1/status and gives each local group the running instance's targets
 * and their states, so the usable set (and fail-open) is computed by `TargetGroupRuntime`
 * itself; adds the names of the groups it found to `live`. Never throws: an unreachable admin
 * API is reported and health stays unknown.
 */
export async function applyLiveStatus(
  adminUrl: string,
  token: string | null,
  groups: ReadonlyMap<string, TargetGroupRuntime>,
  live: Set<string>,
): Promise<NonNullable<ExplainReport['admin']>> {
  const url = adminUrl.replace(/\/+$/, '') + '/api/v1/status';
  const fetched = await getJson(url, token);
  if (!fetched.ok) return { url, ok: false, error: fetched.error };
  const status = fetched.value as { targetGroups?: { name?: unknown; targets?: unknown }[] } | null;
  if (status === null || typeof status !== 'object' || !Array.isArray(status.targetGroups)) {
    return { url, ok: false, error: 'the answer is not a Switchyard status document' };
  }
  for (const lg of status.targetGroups) {
    const g = typeof lg?.name === 'string' ? groups.get(lg.name) : undefined;
    if (g === undefined || !Array.isArray(lg.targets)) continue;
    live.add(g.name);
    const seen = new Set<string>();
    for (const lt of lg.targets as LiveTarget[]) {
      if (typeof lt?.host !== 'string' || typeof lt.port !== 'number') continue;
      const t = g.targets.get(lt.id) ?? g.register(lt.host, lt.port, lt.weight, false);
      seen.add(t.id);
      setLiveState(t, lt);
    }
    for (const t of g.targets.values()) {
      if (seen.has(t.id)) continue;
      t.removed = true;
      t.reason = 'not registered in the running instance';
    }
    g.refresh();
  }
  return { url, ok: true, error: null };
}

/** Sets a target's flags so that its derived state is the live one. */
function setLiveState(t: Target, live: LiveTarget): void {
  t.configuredWeight = typeof live.weight === 'number' ? live.weight : t.configuredWeight;
  t.weight = t.configuredWeight;
  t.inFlight = typeof live.inFlight === 'number' ? live.inFlight : 0;
  t.reason = typeof live.reason === 'string' ? live.reason : '';
  t.removed = live.state === 'unused';
  t.draining = live.state === 'draining';
  t.passiveEjected = live.state === 'unhealthy';
  t.checksDisabled = false;
  t.activeHealthy = live.state === 'healthy' ? true : live.state === 'initial' ? null : false;
}

function getJson(url: string, token: string | null): Promise<Result<unknown>> {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    const headers: Record<string, string> = { accept: 'application/json', connection: 'close' };
    if (token !== null && token !== '') headers['authorization'] = `Bearer ${token}`;
    let req: http.ClientRequest;
    try {
      req = client.get(url, { headers, agent: false, timeout: ADMIN_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => resolve({ ok: false, error: e.message }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            const hint = res.statusCode === 401 ? ' (pass --admin-token)' : '';
            resolve({ ok: false, error: `HTTP ${res.statusCode ?? 0}${hint}` });
            return;
          }
          try {
            resolve({ ok: true, value: JSON.parse(text) as unknown });
          } catch {
            resolve({ ok: false, error: 'the answer is not JSON' });
          }
        });
      });
    } catch (e) {
      resolve({ ok: false, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ADMIN_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
}
