// Tiny DOM builder. Strings always become text (textContent / text nodes);
// there is deliberately no way to set innerHTML through it.

type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  attrs?: Record<string, string | number | boolean | null | undefined>;
  data?: Record<string, string>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.attrs) setAttrs(el, props.attrs);
  if (props.data) for (const [k, v] of Object.entries(props.data)) el.dataset[k] = v;
  if (props.on) for (const [k, fn] of Object.entries(props.on)) el.addEventListener(k, fn as EventListener);
  if (props.text !== undefined) el.textContent = props.text;
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) el.append(typeof c === "number" ? String(c) : c);
  return el;
}

export function setAttrs(el: Element, attrs: Record<string, string | number | boolean | null | undefined>): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") throw new Error("use element.style from JS instead of style attributes");
    if (v === null || v === undefined || v === false) el.removeAttribute(k);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

/** Set text only when it differs (avoids layout work on unchanged rows). */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: (SVGElement | string)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

// 24×24 stroke icons (paths written for this app).
const ICONS: Record<string, string[]> = {
  file: ["M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z", "M14 3v5h5"],
  link: [
    "M10 14a4 4 0 0 0 5.66 0l3-3a4 4 0 0 0-5.66-5.66l-1 1",
    "M14 10a4 4 0 0 0-5.66 0l-3 3a4 4 0 0 0 5.66 5.66l1-1",
  ],
  folder: ["M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z"],
  plus: ["M12 5v14", "M5 12h14"],
  retry: ["M4 4v6h6", "M20 20v-6h-6", "M5.5 15a7 7 0 0 0 12.1 2.1", "M18.5 9a7 7 0 0 0-12.1-2.1"],
  trash: ["M4 7h16", "M10 11v6", "M14 11v6", "M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12", "M9 7V4h6v3"],
  search: ["M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z", "M20 20l-4-4"],
  pause: ["M8 5v14", "M16 5v14"],
  play: ["M7 5l12 7-12 7z"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  back: ["M19 12H5", "M11 6l-6 6 6 6"],
  similar: ["M12 3l9 5-9 5-9-5z", "M3 13l9 5 9-5"],
  alert: ["M12 3l10 18H2z", "M12 10v5", "M12 18h.01"],
  check: ["M5 12l5 5 9-10"],
  filter: ["M4 5h16l-6 7.5V19l-4 2v-8.5z"],
  clock: ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z", "M12 7v5l3 2"],
  queue: ["M4 6h16", "M4 12h16", "M4 18h10"],
  gear: [
    "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
    "M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z",
  ],
  upload: ["M12 16V4", "M7 9l5-5 5 5", "M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3"],
  library: ["M4 4h4v16H4z", "M10 4h4v16h-4z", "M16 5l4 1-3 14-4-1z"],
  ask: [
    "M20 12a8 8 0 0 1-11.7 7.1L4 20l1-4.1A8 8 0 1 1 20 12z",
    "M9.5 9.5a2.5 2.5 0 1 1 3.3 2.4c-.5.2-.8.6-.8 1.1v.5",
    "M12 16h.01",
  ],
  keyboard: [
    "M4 6h16a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2z",
    "M6 10h.01",
    "M10 10h.01",
    "M14 10h.01",
    "M18 10h.01",
    "M8 14h8",
  ],
};

export function icon(name: keyof typeof ICONS | string, cls = "icon"): SVGSVGElement {
  const s = svg("svg", { viewBox: "0 0 24 24", class: cls, "aria-hidden": "true", focusable: "false" });
  for (const d of ICONS[name] ?? []) s.append(svg("path", { d }));
  return s;
}

/** Button with icon + label; label also becomes the accessible name. */
export function button(
  label: string,
  opts: {
    icon?: string;
    class?: string;
    testid?: string;
    title?: string;
    iconOnly?: boolean;
    onClick?: (e: MouseEvent) => void;
  } = {},
): HTMLButtonElement {
  const b = h("button", {
    class: opts.class ?? "btn",
    attrs: {
      type: "button",
      title: opts.title ?? (opts.iconOnly ? label : null),
      "aria-label": opts.iconOnly ? label : null,
    },
  });
  if (opts.testid) b.dataset.testid = opts.testid;
  if (opts.icon) b.append(icon(opts.icon));
  if (!opts.iconOnly) b.append(h("span", { class: "btn-label", text: label }));
  if (opts.onClick) b.addEventListener("click", opts.onClick);
  return b;
}
