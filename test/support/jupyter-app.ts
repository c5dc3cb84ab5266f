/**
 * Asking a Notebook 7 or JupyterLab 4 page what it shows, through the app it exposes
 * (`--expose-app-in-browser` makes it `window.jupyterapp`). Both UIs are built from the
 * same JupyterLab parts, so one probe serves both. The probe runs in the page, so it
 * is JavaScript in a string: the project's TypeScript has no DOM types.
 */
import type { Page } from "playwright-core";
import type { Output } from "../../src/engine/notebook.js";

/** One cell as the page holds it. */
export interface PageCell {
  readonly type: "code" | "markdown" | "raw";
  readonly source: string;
  /** null until it ran (and for text cells). */
  readonly executionCount: number | null;
  readonly outputs: readonly Output[];
  /** The cell's metadata.editable as the page read it. */
  readonly editable: boolean | undefined;
  /** How many kit check reports (`.rollcall-check`) its output area rendered. */
  readonly renderedChecks: number;
}

/** Everything the page says makes a notebook modified. */
export interface DirtyMarks {
  /** The document model's own flag, which both UIs show and which makes closing ask "Save changes?". */
  readonly model: boolean;
  /** The tab's mark: the document's title carries the class jp-mod-dirty (JupyterLab draws it as a ● on the tab). */
  readonly title: boolean;
  /** Tabs in the page with jp-mod-dirty (JupyterLab; Notebook 7 has no tabs). */
  readonly tabs: number;
}

/** A colour of some text and the colours behind it, innermost first, as getComputedStyle gives them. */
export interface TextColour {
  readonly what: string;
  readonly text: string;
  readonly colour: string;
  readonly backgrounds: readonly string[];
}

const PROBE = String.raw`
window.rollcallProbe = (() => {
  const panel = () => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return widget && widget.content && widget.context && widget.sessionContext ? widget : null;
  };
  const kernel = () => {
    const p = panel();
    return p && p.sessionContext.session ? p.sessionContext.session.kernel : null;
  };
  const backgrounds = (element) => {
    const layers = [];
    for (let e = element; e && e.nodeType === 1; e = e.parentElement) {
      const colour = getComputedStyle(e).backgroundColor;
      if (colour && colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") layers.push(colour);
      if (/^rgb\(/.test(colour)) break; // opaque: nothing further out shows through
    }
    return layers;
  };
  const short = (text) => (text || "").trim().replace(/\s+/g, " ").slice(0, 60);
  /** The text colours of an SVG shown as an <img>: its own document decides them, so read them from a same-origin copy. */
  const imageTextColours = async (img, what) => {
    const svg = await (await fetch(img.src)).text();
    const frame = document.createElement("iframe");
    frame.style.cssText = "position:fixed;left:-10000px;top:0;width:800px;height:600px;border:0;";
    frame.src = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
    await new Promise((resolve) => { frame.onload = resolve; document.body.appendChild(frame); });
    const found = [...frame.contentDocument.querySelectorAll("text")].map((t) => ({
      what: what + " (an <img>)", text: short(t.textContent), colour: frame.contentWindow.getComputedStyle(t).fill, backgrounds: backgrounds(img),
    }));
    frame.remove();
    return found;
  };
  return {
    ready(path) {
      const p = panel();
      const k = kernel();
      return !!(p && p.context.isReady && p.context.path === path && k && k.status === "idle" && k.connectionStatus === "connected");
    },
    openNotebooks() {
      return [...window.jupyterapp.shell.widgets("main")].filter((w) => w.context && w.content).map((w) => w.context.path);
    },
    dirty() {
      const p = panel();
      return { model: p.context.model.dirty, title: p.title.className.includes("jp-mod-dirty"), tabs: document.querySelectorAll(".lm-TabBar-tab.jp-mod-dirty").length };
    },
    /** Run All has finished: the kernel is idle, no cell is queued or running ([*]), and some cell ran. */
    finished() {
      const p = panel();
      const k = kernel();
      const prompts = [...p.node.querySelectorAll(".jp-InputPrompt")].map((e) => e.textContent || "");
      const ran = p.content.widgets.some((c) => c.model.type === "code" && c.model.executionCount !== null);
      return !!(k && k.status === "idle" && ran && !prompts.some((text) => text.includes("*")));
    },
    cells() {
      return panel().content.widgets.map((c) => ({
        type: c.model.type,
        source: c.model.sharedModel.getSource(),
        executionCount: c.model.type === "code" ? c.model.executionCount : null,
        outputs: c.model.type === "code" ? c.model.outputs.toJSON() : [],
        editable: c.model.getMetadata("editable"),
        renderedChecks: c.node.querySelectorAll(".rollcall-check").length,
      }));
    },
    /** Marks cell i's node so that the test can find it with a selector, and scrolls it into view. */
    mark(index, name) {
      document.querySelectorAll("[data-rollcall-probe='" + name + "']").forEach((e) => e.removeAttribute("data-rollcall-probe"));
      const node = panel().content.widgets[index].node;
      node.setAttribute("data-rollcall-probe", name);
      node.scrollIntoView({ block: "center" });
    },
    setSource(index, source) {
      panel().content.widgets[index].model.sharedModel.setSource(source);
    },
    /** The theme the page says it shows, and the page's background colour as that theme's CSS sets it. */
    theme() {
      const background = getComputedStyle(document.body).getPropertyValue("--jp-layout-color0").trim();
      return { name: document.body.dataset.jpThemeName, light: document.body.dataset.jpThemeLight, background };
    },
    /** The text of the SVG charts in cell i's outputs: inline SVG (shown as HTML) or an SVG image. */
    async chartColours(index) {
      const node = panel().content.widgets[index].node;
      const inline = [...node.querySelectorAll(".jp-OutputArea-output svg text")].map((t) => ({
        what: "chart text (inline SVG)", text: short(t.textContent), colour: getComputedStyle(t).fill, backgrounds: backgrounds(t),
      }));
      const images = [];
      for (const img of node.querySelectorAll(".jp-OutputArea-output img")) {
        if (/svg/.test(img.src)) images.push(...(await imageTextColours(img, "chart text")));
      }
      return [...inline, ...images];
    },
    /** The innermost elements of cell i's outputs whose text includes one of these (a check's hints). */
    textColours(index, wanted, what) {
      const node = panel().content.widgets[index].node;
      const all = [...node.querySelectorAll(".jp-OutputArea-output *")];
      return wanted.map((text) => {
        const holders = all.filter((e) => (e.textContent || "").includes(text));
        const innermost = holders.find((e) => !holders.some((other) => other !== e && e.contains(other)));
        return innermost
          ? { what, text: short(text), colour: getComputedStyle(innermost).color, backgrounds: backgrounds(innermost) }
          : { what: what + " (not found)", text: short(text), colour: "", backgrounds: [] };
      });
    },
  };
})();
`;

/** Installs the probe in every page the browser loads from now on. */
export async function installProbe(page: Page): Promise<void> {
  await page.addInitScript(PROBE);
}

/** How long one probe call may take before the test says which one hung. */
const PROBE_TIMEOUT_MS = 30_000;

/** Calls one of the probe's functions in the page. */
export async function probe<T>(page: Page, call: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the page did not answer rollcallProbe.${call} within ${PROBE_TIMEOUT_MS / 1000} s`)),
      PROBE_TIMEOUT_MS,
    );
  });
  try {
    return (await Promise.race([page.evaluate(`window.rollcallProbe.${call}`), hung])) as T;
  } finally {
    clearTimeout(timer);
  }
}
