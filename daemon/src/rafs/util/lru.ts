/**
 * A Map-based LRU bounded by a total cost (entry count when every cost is 1, bytes for buffers).
 * An entry costlier than the whole bound is simply not kept.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private used = 0;

  constructor(readonly maxCost: number, private readonly costOf: (v: V) => number = () => 1) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  has(key: K): boolean { return this.map.has(key); }

  set(key: K, value: V): void {
    this.delete(key);
    const cost = this.costOf(value);
    if (cost > this.maxCost) return;
    this.map.set(key, { value, cost });
    this.used += cost;
    while (this.used > this.maxCost) {
      const oldest = this.map.keys().next().value as K;
      this.delete(oldest);
    }
  }

  delete(key: K): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.used -= e.cost;
  }

  clear(): void { this.map.clear(); this.used = 0; }
  get size(): number { return this.map.size; }
  get cost(): number { return this.used; }
}
