/**
 * Starting Switchyard in-process for a test, and config builders that keep test files short.
 */
import { Switchyard } from '../../../src/control/switchyard.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { ActionConfig, Config, ListenerConfig, RuleConfig, TargetGroupConfig } from '../../../src/config/types.js';

export interface Running {
  readonly sy: Switchyard;
  /** The bound port of a listener (default: the first one). */
  port(name?: string): number;
  readonly adminPort: number | null;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Start the admin server on a free port. Default false. */
  readonly admin?: boolean;
  /** Access log destination. Default 'off'. */
  readonly accessLogPath?: string;
}

export async function startSwitchyard(config: Config, o: StartOptions = {}): Promise<Running> {
  const sy = await Switchyard.start({
    config,
    adminPort: o.admin ? 0 : null,
    accessLogPath: o.accessLogPath ?? 'off',
    logger: silentLogger(),
  });
  const first = config.listeners[0]!.name;
  return {
    sy,
    port: (name = first) => {
      const l = sy.listeners.get(name);
      if (!l) throw new Error(`no listener ${name}`);
      return l.port;
    },
    get adminPort() {
      return sy.adminPort;
    },
    close: () => sy.close(),
  };
}

/** An HTTP listener on 127.0.0.1:0. */
export function listener(name: string, defaultAction: ActionConfig, rules: RuleConfig[] = []): ListenerConfig {
  return { name, protocol: 'HTTP', host: '127.0.0.1', port: 0, rules, defaultAction };
}

/** A target group over loopback ports, health checks off (targets are healthy at once). */
export function group(name: string, ports: readonly number[], extra: Partial<TargetGroupConfig> = {}): TargetGroupConfig {
  return {
    name,
    targets: ports.map((port) => ({ host: '127.0.0.1', port })),
    healthCheck: { enabled: false },
    ...extra,
  };
}

export const forwardTo = (targetGroup: string): ActionConfig => ({ forward: { targetGroup } });

/** The usual shape: one listener `web` forwarding everything to group `g` over `ports`. */
export function simpleConfig(ports: readonly number[], o: { settings?: Config['settings']; group?: Partial<TargetGroupConfig> } = {}): Config {
  return {
    ...(o.settings ? { settings: o.settings } : {}),
    listeners: [listener('web', forwardTo('g'))],
    targetGroups: [group('g', ports, o.group)],
  };
}
