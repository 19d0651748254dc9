// Small DOM helpers for the dashboard. Text goes in as textContent and attributes only (never
// innerHTML, which ESLint forbids here), so snapshot values cannot inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The one element matching `selector` under `root`; a missing one is a bug in the page, so it throws. */
export function one<E extends Element = HTMLElement>(root: ParentNode, selector: string): E {
  const element = root.querySelector<E>(selector);
  if (element === null) throw new Error(`dashboard: no element ${selector}`);
  return element;
}

/** The tile section named by data-tile. */
export function tile(name: string): HTMLElement {
  return one(document, `[data-tile="${name}"]`);
}

/** A field of a tile, named by data-field. */
export function field<E extends Element = HTMLElement>(t: Element, name: string): E {
  return one<E>(t, `[data-field="${name}"]`);
}

/** Sets a field's machine-readable data-value and its text; returns the field. */
export function put(t: Element, name: string, value: string | number | boolean, text: string): HTMLElement {
  const e = field(t, name);
  e.setAttribute('data-value', String(value));
  e.textContent = text;
  return e;
}

/** A new HTML element with an optional class and text. */
export function make<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string | number): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

/** A new SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Removes every child. */
export function empty(e: Element): void {
  e.replaceChildren();
}

export type Tone = 'good' | 'warn' | 'bad' | 'idle' | '';

/** Colours an element by state (one of good, warn, bad, idle, or none); returns it. */
export function tone<E extends Element>(e: E, t: Tone): E {
  e.classList.remove('good', 'warn', 'bad', 'idle');
  if (t) e.classList.add(t);
  return e;
}
