/**
 * The order in which a request tries a route's targets: priority groups in ascending order
 * (higher numbers are fallbacks), each group in a weighted random order so traffic spreads
 * by weight, and a target with weight 0 never picked.
 */
import type { TargetConfig } from '../providers/config-types.ts';

export function planAttemptOrder(targets: readonly TargetConfig[], random: () => number): TargetConfig[] {
  const groups = new Map<number, TargetConfig[]>();
  for (const t of targets) {
    if (!(t.weight > 0)) continue;
    const g = groups.get(t.priority);
    if (g === undefined) groups.set(t.priority, [t]);
    else g.push(t);
  }
  const order: TargetConfig[] = [];
  for (const priority of [...groups.keys()].sort((a, b) => a - b)) {
    order.push(...weightedShuffle(groups.get(priority) ?? [], random));
  }
  return order;
}

/** Repeated weighted draw without replacement: the first pick has probability weight/total. */
function weightedShuffle(items: readonly TargetConfig[], random: () => number): TargetConfig[] {
  const pool = [...items];
  const out: TargetConfig[] = [];
  let total = pool.reduce((sum, t) => sum + t.weight, 0);
  while (pool.length > 0) {
    let r = random() * total;
    let idx = pool.length - 1;
    for (let i = 0; i < pool.length; i++) {
      r -= pool[i]?.weight ?? 0;
      if (r < 0) {
        idx = i;
        break;
      }
    }
    const [picked] = pool.splice(idx, 1);
    if (picked === undefined) break;
    out.push(picked);
    total -= picked.weight;
  }
  return out;
}
