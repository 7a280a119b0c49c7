// The custom elements of storefront-loyalty: <loyalty-launcher>, <loyalty-panel>, <loyalty-points>,
// <loyalty-cart-points>, <loyalty-recommendations>. Each is a thin shell: it opens a shadow root, adopts the
// one shared constructable stylesheet and hands the root to a wasm `Widget`, which renders and re-renders
// it. No HTML strings, no eval, no inline styles: a strict CSP needs only 'wasm-unsafe-eval'.
//
// This module imports nothing: the caller hands it wasm-bindgen's glue (the npm entry, index.js, its own import;
// the script-tag loader the copy it verified). A relative import here would be resolved against wherever this
// file's response came from, so a CDN that redirected it could have it import a glue nobody verified.

const KINDS = {
  "loyalty-launcher": "launcher",
  "loyalty-panel": "panel",
  "loyalty-points": "points",
  "loyalty-cart-points": "cart-points",
  "loyalty-recommendations": "recommendations",
};

const OBSERVED = ["product-id", "price", "currency", "quantity", "variant-id", "categories", "tags", "lines", "locale", "cart"];

// Custom properties are the theme: set them on the elements (or :root) in the shop's CSS.
// The dark palette: under prefers-color-scheme: dark unless theme="light", and always with theme="dark".
const DARK = "--_accent:var(--loyalty-accent-dark,#f08cbd);--_on-accent:var(--loyalty-on-accent-dark,#26101b);--_bg:var(--loyalty-background-dark,#1c1c21);--_fg:var(--loyalty-text-dark,#f1f1f4);--_muted:var(--loyalty-muted-dark,#b5b5bf);--_line:var(--loyalty-border-dark,#3a3a44);--_skeleton:var(--loyalty-skeleton-dark,#2c2c33);--_danger:#ffb4ab";
const CSS = `
:host{--_danger:#b3261e;--_accent:var(--loyalty-accent,#b4236b);--_on-accent:var(--loyalty-on-accent,#fff);--_bg:var(--loyalty-background,#fff);--_fg:var(--loyalty-text,#1f1f24);--_muted:var(--loyalty-muted,#5d5d66);--_line:var(--loyalty-border,#dcdce2);--_skeleton:var(--loyalty-skeleton,#ececf0);--_radius:var(--loyalty-radius,12px);font-family:var(--loyalty-font);font-size:15px;line-height:1.45;font-weight:400;color:var(--_fg);color-scheme:light dark;box-sizing:border-box}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${DARK}}}
:host([theme=dark]){${DARK}}
:host([theme=light]){color-scheme:light}:host([theme=dark]){color-scheme:dark}
*,*::before,*::after{box-sizing:inherit}
[hidden]{display:none!important}
.sr-only,.offscreen{position:absolute!important;inline-size:1px;block-size:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
button,a.primary,a.secondary{font-family:inherit;font-size:14px;line-height:1.2;font-weight:600;border-radius:999px;padding:.55em 1.1em;cursor:pointer;border:1px solid var(--_accent);text-decoration:none;display:inline-block;min-block-size:36px}
.primary{background:var(--_accent);color:var(--_on-accent)}.secondary,.retry{background:transparent;color:var(--_accent)}
button:disabled{opacity:.55;cursor:default}
:focus-visible{outline:3px solid var(--_accent);outline-offset:2px}
:host(loyalty-launcher){position:fixed!important;z-index:2147483000;inset-block-end:var(--loyalty-offset-y,20px);inset-inline-end:var(--loyalty-offset-x,20px);display:block!important}
:host(loyalty-launcher[position=bottom-left]){inset-inline-end:auto;inset-inline-start:var(--loyalty-offset-x,20px)}
:host(loyalty-launcher[position=top-right]){inset-block-end:auto;inset-block-start:var(--loyalty-offset-y,20px)}
:host(loyalty-launcher[position=top-left]){inset-block-end:auto;inset-block-start:var(--loyalty-offset-y,20px);inset-inline-end:auto;inset-inline-start:var(--loyalty-offset-x,20px)}
.launcher .name{color:inherit}
.launcher{display:flex;align-items:center;gap:.45em;background:var(--_accent);color:var(--_on-accent);box-shadow:0 6px 20px rgb(0 0 0/.22);min-block-size:48px;padding:.7em 1.1em}
.icon{inline-size:20px;block-size:20px;fill:currentColor}
.count{background:var(--_on-accent);color:var(--_accent);border-radius:999px;padding:.1em .55em;font-variant-numeric:tabular-nums}
.dialog{border:0;padding:0;margin:0 0 0 auto;max-inline-size:min(420px,100vw);inline-size:100%;max-block-size:100dvh;block-size:100dvh;background:var(--_bg);color:var(--_fg);box-shadow:-8px 0 30px rgb(0 0 0/.25)}
.dialog::backdrop{background:rgb(0 0 0/.35)}
@media (max-width:480px){.dialog{max-block-size:90dvh;block-size:auto;margin:auto 0 0;border-radius:var(--_radius) var(--_radius) 0 0}}
.panel{display:block;padding:18px 18px 28px;background:var(--_bg);color:var(--_fg);border-radius:var(--_radius)}
:host(loyalty-panel){display:block}
:host(loyalty-panel) .panel{border:1px solid var(--_line)}
.header{display:flex;align-items:center;justify-content:space-between;gap:12px;margin-block-end:8px}
.title{font-size:19px;margin:0}
.close{border:0;background:transparent;color:var(--_fg);font-size:24px;line-height:1;padding:0;inline-size:44px;block-size:44px}
.status{margin:0 0 12px;padding:10px 12px;border-radius:8px;background:var(--_skeleton);display:flex;gap:10px;align-items:center;justify-content:space-between}
.body>section{border-block-start:1px solid var(--_line);padding-block:14px}
.body>section:first-child{border:0}
h3{font-size:15px;margin:0 0 8px}h4{font-size:14px;margin:10px 0 4px}
p{margin:4px 0}ul{list-style:none;margin:0;padding:0}
.label,.pending,.expiring,.keep,.to-next,.when,.cost,.missing,.used{color:var(--_muted)}
.points{font-size:30px;font-weight:700;font-variant-numeric:tabular-nums;margin:0}
.expiring{color:var(--_accent)}
.tier-name{font-weight:700;font-size:17px}
.progress{margin:8px 0 4px}.progress svg{display:block;inline-size:100%;block-size:8px}
.track{fill:var(--_skeleton)}.fill{fill:var(--_accent)}
.reward,.codes li,.activity-list li{display:flex;flex-wrap:wrap;align-items:center;gap:4px 12px;padding-block:8px;border-block-end:1px solid var(--_line)}
.reward-name{flex:1 1 10em;font-weight:600}
.confirm{flex-basis:100%;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.confirm p{flex-basis:100%}
.code-line{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.code{font:600 15px/1.3 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.04em;padding:.3em .6em;border:1px dashed var(--_accent);border-radius:6px;user-select:all}
.redeemed{padding:10px;border-radius:8px;border:1px solid var(--_accent);margin-block-end:8px}
.error,.problem{color:var(--_danger)}
.birthday-form{display:flex;flex-wrap:wrap;align-items:end;gap:8px 12px;margin-block-start:8px}
.field{display:flex;flex-direction:column;gap:2px;color:var(--_muted);font-size:13px}
select{font-family:inherit;font-size:15px;line-height:1.2;font-weight:400;color:var(--_fg);background:var(--_bg);border:1px solid var(--_line);border-radius:8px;min-block-size:40px;padding:0 .5em}
.note{color:var(--_muted);font-size:13px}
input{font:400 14px/1.2 ui-monospace,Menlo,Consolas,monospace;color:var(--_fg);background:var(--_bg);border:1px solid var(--_line);border-radius:8px;min-block-size:40px;padding:0 .6em;inline-size:100%}
.link-line{display:flex;flex-wrap:wrap;align-items:end;gap:8px;margin-block:10px}.link-line .field{flex:1 1 14em}
.share-list{display:flex;flex-wrap:wrap;gap:8px;margin-block:10px}
.share-link{display:inline-block;min-block-size:36px;padding:.55em .9em;border:1px solid var(--_line);border-radius:999px;color:var(--_fg);text-decoration:none;font-family:inherit;font-size:14px;line-height:1.2;font-weight:600}
.qr{margin:10px 0;display:flex;gap:12px;align-items:center}.qr svg{inline-size:132px;block-size:132px;flex:none}
.qr figcaption,.referral-counts{color:var(--_muted);font-size:13px}
.what{flex:1 1 8em}.plus,.minus{font-variant-numeric:tabular-nums;font-weight:600}
.ways li,.tiers li{padding-block:4px}.tiers span{display:block;color:var(--_muted)}
.links{display:flex;gap:10px;margin-block-start:10px}
.skeleton{background:var(--_skeleton);border-radius:6px;block-size:16px;margin:10px 0}
.skeleton.big{block-size:36px;inline-size:55%}.skeleton.bar{block-size:8px}
:host(loyalty-points),:host(loyalty-cart-points){display:inline-block;vertical-align:top;min-block-size:24px;min-inline-size:144px;line-height:24px;font-size:inherit}
.badge{display:inline-block;line-height:24px;color:var(--_accent);font-weight:600}
.badge[data-loading]{inline-size:144px;block-size:24px;vertical-align:top;background:var(--_skeleton);border-radius:6px}
:host(loyalty-recommendations){display:block}
.recommendations h2{font-size:17px;margin:0 0 10px}
.rec-list{display:grid;grid-template-columns:repeat(auto-fill,minmax(148px,1fr));gap:14px}
.rec-item,.rec-skeleton{min-block-size:232px}.rec-skeleton{background:var(--_skeleton);border-radius:8px}
.rec-link{display:flex;flex-direction:column;gap:3px;color:inherit;text-decoration:none;border-radius:8px}
.rec-image{inline-size:96px;block-size:96px;object-fit:cover;border-radius:8px;background:var(--_skeleton);display:block}
.rec-title{font-weight:600}.rec-price,.rec-reason{color:var(--_muted)}.rec-points{color:var(--_accent);font-weight:600}
.rec-reason{font-size:13px;margin:4px 0 0}
.rec-switch{margin-block-start:14px;font-size:14px}.rec-switch label{display:inline-flex;gap:8px;align-items:center;min-block-size:36px;cursor:pointer}
input[type=checkbox]{inline-size:20px;block-size:20px;min-block-size:0;padding:0;accent-color:var(--_accent)}
.empty{color:var(--_muted)}
@media (prefers-reduced-motion:no-preference){.dialog[open]{animation:slide .18s ease-out}.skeleton,.badge[data-loading]{animation:pulse 1.2s ease-in-out infinite alternate}}
@keyframes slide{from{transform:translateX(24px);opacity:.6}}
@keyframes pulse{to{opacity:.55}}
`;

let page = null; // { client, settings, sheet, glue } once defineElements (or the shell's startWith) has run
let started;
const whenStarted = new Promise((resolve) => {
  started = resolve;
});
const live = new Set(); // connected elements, for the page's language changes

function define(tag, kind) {
  class LoyaltyElement extends HTMLElement {
    static observedAttributes = OBSERVED;
    #widget = null;
    #client = null;
    #cart = null;

    connectedCallback() {
      live.add(this);
      if (this.#widget || !page) return;
      try {
        const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
        root.adoptedStyleSheets = [page.sheet];
        this.#widget = new page.glue.Widget(kind, this, root, this.#client ?? page.client, page.settings);
        if (this.#cart) this.#widget.setCart(this.#cart);
      } catch (error) {
        console.error(`storefront-loyalty: <${tag}> could not start:`, error);
      }
    }

    disconnectedCallback() {
      live.delete(this);
      // A framework that moves the element disconnects and reconnects it in one task: keep the widget.
      queueMicrotask(() => {
        if (!this.isConnected) this.#drop();
      });
    }

    attributeChangedCallback(name) {
      if (!this.#widget) return;
      if (name === "cart") {
        this.#drop();
        this.connectedCallback();
      } else {
        this.#widget.attributeChanged();
      }
    }

    #drop() {
      if (!this.#widget) return;
      this.#widget.destroy();
      this.#widget.free();
      this.#widget = null;
    }

    /** The client this element shows (the page's, unless one was set). */
    get client() {
      return this.#client ?? page?.client ?? null;
    }

    set client(client) {
      this.#client = client;
      this.#widget?.setClient(client ?? page.client);
    }

    /** The cart a cart badge shows: `{ currency, lines: [{ productId, unitPrice, quantity }] }`. */
    get cart() {
      return this.#cart;
    }

    set cart(cart) {
      this.#cart = cart;
      this.#widget?.setCart(cart ?? null);
    }

    open() {
      this.#widget?.open();
    }

    close() {
      this.#widget?.close();
    }
  }
  if (!customElements.get(tag)) customElements.define(tag, LoyaltyElement);
}

/**
 * Loads the wasm (once) through `glue` (the namespace of wasm-bindgen's glue module), creates the page's client
 * and registers the elements. Every element on the page shares that client unless it is given its own
 * (`element.client = createClient(...)`). The npm entry's `defineElements(config, wasm)` passes its glue.
 * `config` is a `createClient` config plus `locale`, `currency`, `signInUrl` and `joinUrl`, or `{ client }`
 * to share a client made earlier. Calling it again returns the first client and changes nothing.
 */
export async function defineElementsWith(glue, config = {}, wasm) {
  if (page) {
    console.warn("storefront-loyalty: the elements are already defined; this call is ignored");
    return page.client;
  }
  await startWith(glue, config, wasm);
  // A new task for the elements: creating the client (and reading its cache) and mounting every element in
  // one go made the start's longest task; split, neither blocks input for long.
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (const [tag, kind] of Object.entries(KINDS)) define(tag, kind);
  // Elements follow the page's language when it changes (a language switch that does not reload).
  new MutationObserver(() => {
    for (const element of live) element.attributeChangedCallback("locale");
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  return page.client;
}

/**
 * Loads the wasm (once) through `glue`, checks the elements' settings and creates the page's client, without
 * defining any element: the script tag's shell, which defined them, hands its elements over to `Widget`s made
 * with what this returns (`{ client, settings, sheet, glue }`).
 */
export async function startWith(glue, config = {}, wasm) {
  if (page) return page;
  await glue.default(wasm === undefined ? undefined : { module_or_path: wasm });
  if (page) return page;
  const { locale, currency, signInUrl, joinUrl, client, ...clientConfig } = config;
  const settings = glue.elementSettings({ locale, currency, signInUrl, joinUrl });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  page = { client: client ?? glue.createClient(clientConfig), settings, sheet, glue };
  started(page.client);
  return page;
}

/** The page's client, once it exists (the script tag makes it when the panel is first needed). */
export function whenClient() {
  return whenStarted;
}

/** The page's client, once `defineElements` has run. */
export function pageClient() {
  return page?.client ?? null;
}
