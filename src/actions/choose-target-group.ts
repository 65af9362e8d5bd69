/**
 * The weighted target-group draw of a forward action (SPEC §4 "Target choice").
 *
 * Owns: one draw over the compiled cumulative weights (groups of weight 0 were left out at
 * compile time). No I/O, no allocation; never throws for a compiled forward, which always has
 * at least one group.
 */
import type { CompiledForward } from '../config/compile.js';
import type { TargetGroupRuntime } from '../targets/target-group.js';
import { defaultRandom, type Random } from '../util/random.js';

export function chooseTargetGroup(action: CompiledForward, random: Random = defaultRandom): TargetGroupRuntime {
  const groups = action.groups;
  if (groups.length === 1) return groups[0]!;
  const draw = random() * action.totalWeight;
  const cumulative = action.cumulativeWeights;
  for (let i = 0; i < cumulative.length; i++) if (draw < cumulative[i]!) return groups[i]!;
  return groups[groups.length - 1]!;
}
