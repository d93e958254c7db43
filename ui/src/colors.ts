/*
 * One colour per VLAN, the same on every page and in every filter. A tag prefers the palette
 * slot tag mod N; a taken slot passes it on to the next free one, in tag order. So a VLAN keeps
 * its colour while the fleet's VLANs change, unless a lower tag comes to want its slot. Past N
 * VLANs colours repeat (the lane and label still say which VLAN it is).
 */

// Ordered so that the lab's 1001, 1002 (slots 5, 6) get blue and orange. No red: red means drift or failure.
export const VLAN_PALETTE: readonly string[] = [
  '#00897b', // teal
  '#ec407a', // pink
  '#b8860b', // ochre
  '#7b4fd6', // violet
  '#0097c7', // cyan
  '#2f6fdf', // blue
  '#e8710a', // orange
  '#1e9e5a', // green
  '#ad1fa0', // magenta
  '#6d8c1a', // olive
  '#8d5a3b', // brown
  '#5c6bc0', // indigo
];

/** Lanes that are not one VLAN. */
export const TRUNK_COLOR = '#5f6b7a';
export const UNTAGGED_COLOR = '#9aa5b1';

export function assignVlanColors(tags: Iterable<number>, palette: readonly string[] = VLAN_PALETTE): Map<number, string> {
  const sorted = [...new Set(tags)].sort((a, b) => a - b);
  const out = new Map<number, string>();
  const taken = new Set<number>();
  for (const tag of sorted) {
    if (taken.size === palette.length) taken.clear();
    let slot = tag % palette.length;
    while (taken.has(slot)) slot = (slot + 1) % palette.length;
    taken.add(slot);
    out.set(tag, palette[slot]!);
  }
  return out;
}
