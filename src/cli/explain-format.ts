/**
 * The human-readable form of an `ExplainReport` (`switchyard explain` without `--json`).
 *
 * Owns: layout only: aligned columns, ✓/✗ per rule and condition, shares as percentages.
 * Pure: the report is built by explain.ts; nothing here decides anything.
 */
import type { ExplainReport, ExplainedAction, ExplainedGroup } from './explain.js';

const YES = '✓';
const NO = '✗';

/** The report as lines (no trailing newlines). */
export function formatExplainReport(r: ExplainReport): string[] {
  const lines: string[] = [];
  const q = r.request;
  lines.push(`request   ${q.method} ${q.url}`);
  lines.push(`          host ${q.host} · path ${q.path} · query ${q.query === '' ? '(none)' : q.query} · source ${q.sourceIp}`);
  const l = r.listener;
  const why = l.selectedBy === 'port' ? 'the URL\'s port' : `no listener on the URL's port: the ${l.selectedBy}`;
  lines.push(`listener  ${l.name} · ${l.protocol} ${l.host}:${l.port} (${why})`);
  if (r.admin !== null) {
    lines.push(`admin     ${r.admin.url}: ${r.admin.ok ? 'live health' : `unreachable (${r.admin.error ?? '?'}); health unknown`}`);
  }
  lines.push('');
  if (r.refused !== null) {
    lines.push(`refused   ${r.refused.status} before routing: ${r.refused.reason}`);
    return lines;
  }

  lines.push('rules, in priority order:');
  if (r.rules.length === 0) lines.push('  (none)');
  let width = 0;
  for (const rule of r.rules) for (const c of rule.conditions) width = Math.max(width, c.kind.length);
  for (const rule of r.rules) {
    lines.push(`  ${rule.matched ? YES : NO} rule ${rule.priority}${rule.winner ? '  ← matches' : ''}`);
    if (rule.conditions.length === 0) lines.push(`      ${YES} (no conditions: matches every request)`);
    for (const c of rule.conditions) lines.push(`      ${c.ok ? YES : NO} ${c.kind.padEnd(width)}  ${c.reason}`);
  }
  if (r.notEvaluated > 0) lines.push(`  (${r.notEvaluated} later rule${r.notEvaluated === 1 ? '' : 's'} not evaluated)`);
  if (r.winner !== null && r.winner.isDefault) lines.push('  no rule matched: the default action runs');
  lines.push('');
  if (r.action !== null && r.winner !== null) lines.push(...formatAction(r.action, r.winner.isDefault ? 'default action' : `rule ${r.winner.priority}`));
  return lines;
}

function formatAction(a: ExplainedAction, source: string): string[] {
  switch (a.kind) {
    case 'fixedResponse':
      return [`action    fixedResponse (${source}): ${a.statusCode} ${a.contentType} ${JSON.stringify(a.body)}`];
    case 'redirect':
      return [`action    redirect (${source}): ${a.statusCode} → ${a.location}`];
    case 'forward': {
      const lines = [`action    forward (${source})`, `  path to target  ${a.path}`];
      const nameWidth = Math.max(...a.groups.map((g) => g.name.length));
      a.groups.forEach((g, i) => {
        const label = i === 0 ? (a.groups.length > 1 ? '  group draw      ' : '  target group    ') : '                  ';
        const share = a.groups.length > 1 ? `  weight ${String(g.weight).padStart(3)}  ${percent(g.share)}` : '';
        lines.push(`${label}${g.name.padEnd(nameWidth)}${share}${g.weight === 0 ? '  (never drawn)' : ''}`);
      });
      if (a.groups.length > 1) lines.push('                  one group is drawn per request, in proportion to weight');
      lines.push(`  stickiness      ${a.stickiness}`);
      if (a.stickyCookie !== null) lines.push(`  group cookie    ${a.stickyCookie.detail}`);
      for (const g of a.targetGroups) lines.push('', ...formatGroup(g));
      return lines;
    }
  }
}

function formatGroup(g: ExplainedGroup): string[] {
  const lines = [`target group ${g.name} · ${g.algorithm}: ${g.picks}`];
  lines.push(`  stickiness  ${g.stickiness}`);
  if (g.stickyCookie !== null) lines.push(`  cookie      ${g.stickyCookie.detail}`);
  if (g.health === 'unknown') {
    lines.push('  health      unknown (no --admin): every registered target is counted as a candidate');
  } else if (g.health === 'not running') {
    lines.push('  health      unknown: the running instance has no group of this name');
  } else {
    lines.push(`  health      live${g.failOpen ? '; no target is healthy, so the group fails open to all registered targets' : ''}`);
  }
  if (g.hashOn !== null) {
    const key =
      g.hashKey === null || g.hashKey === ''
        ? `${g.hashOn} absent → a random candidate (no key to be consistent about)`
        : `${g.hashOn} = ${JSON.stringify(g.hashKey)} → ${g.pick ?? 'no candidate'}`;
    lines.push(`  hash key    ${key}`);
  }
  if (g.targets.length === 0) {
    lines.push('  targets     none registered: the request would get 503');
    return lines;
  }
  const candidates = g.targets.filter((t) => t.candidate).length;
  lines.push(`  targets     ${candidates} of ${g.targets.length} are candidates:`);
  const idWidth = Math.max(...g.targets.map((t) => t.id.length));
  for (const t of g.targets) {
    let line = `    ${t.candidate ? YES : NO} ${t.id.padEnd(idWidth)}  weight ${String(t.weight).padStart(3)}  ${t.candidate ? percent(t.share).padStart(6) : '     –'}`;
    if (t.state !== null) line += `  ${t.state}${t.inFlight ? `, ${t.inFlight} in flight` : ''}${t.reason ? ` (${t.reason})` : ''}`;
    if (g.pick === t.id) line += g.stickyCookie?.verdict === 'honoured' ? '  ← picked (sticky cookie)' : '  ← picked';
    lines.push(line);
  }
  return lines;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
