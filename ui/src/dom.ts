/*
 * A small element builder: text always goes in as text nodes (never parsed as HTML), so what
 * hosts and jobs report cannot inject markup.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : (c as Node));
  }
}

/** Replaces an element's content. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A coloured state badge (style.css: .badge.s-<state>). */
export function badge(state: string, text = state): HTMLElement {
  return h('span', { class: `badge s-${state.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` }, text);
}

/** A swatch in a VLAN's colour; the colour is set through the CSSOM (the CSP allows no inline style attributes). */
export function swatch(color: string): HTMLElement {
  const el = h('span', { class: 'swatch' });
  el.style.backgroundColor = color;
  return el;
}
