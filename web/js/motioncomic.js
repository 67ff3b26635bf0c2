// motioncomic frontend extension (ComfyUI frontend extension API: app.registerExtension).
//
// 1. On the Image-to-Video sampler and on Letterbox Image it draws the planned letterbox before you
//    run: the model frame, the content box where your character goes, and (sampler) the frame
//    count check. The plan comes from the pack's own Python framing code through
//    GET /motioncomic/plan, so what you see is what the node will do. Classic canvas: drawn in
//    onDrawForeground. Vue node renderer (setting Comfy.VueNodes.Enabled, where LiteGraph skips
//    drawing node bodies and onDrawForeground): the same drawing on a small <canvas> at the end
//    of the node's DOM body, refreshed every half second.
// 2. The saved clip is previewed by ComfyUI's own frontend: "Save Video (motioncomic)" reports it
//    the way core SaveVideo does ({images, animated}), so no code is needed here for that.
//
// Nothing here changes the graph or its saved workflow.
import { app } from "../../../scripts/app.js";
import { api } from "../../../scripts/api.js";

const SAMPLER = "MotionComicImageToVideo";
const LETTERBOX = "MotionComicLetterboxImage";
const PLAN_ROUTE = "/motioncomic/plan";
const PANEL_HEIGHT = 86;

function widgetValue(node, name) {
  const w = node.widgets?.find((w) => w.name === name);
  return w ? w.value : undefined;
}

function upstreamNode(node, inputName) {
  const slot = node.findInputSlot ? node.findInputSlot(inputName) : -1;
  return slot >= 0 ? node.getInputNode(slot) : null;
}

// Size of the image feeding the sampler: LoadImage keeps its preview in node.imgs.
function upstreamImageSize(node) {
  const src = upstreamNode(node, "image");
  const img = src?.imgs?.[0];
  if (img && img.naturalWidth) return [img.naturalWidth, img.naturalHeight];
  return null;
}

function planQuery(node) {
  const size = upstreamImageSize(node);
  if (!size) return null;
  const params = new URLSearchParams({ width: String(size[0]), height: String(size[1]) });
  if (node.comfyClass === LETTERBOX || node.type === LETTERBOX) {
    params.set("preset", String(widgetValue(node, "preset")));
    params.set("target_width", String(widgetValue(node, "width") ?? 0));
    params.set("target_height", String(widgetValue(node, "height") ?? 0));
    params.set("framing", String(widgetValue(node, "framing") ?? "pad"));
    return params.toString();
  }
  const loader = upstreamNode(node, "model");
  if (!loader) return null;
  params.set("loader", loader.comfyClass || loader.type);
  for (const w of loader.widgets || []) {
    if (typeof w.value === "string" || typeof w.value === "number") params.set(`loader.${w.name}`, String(w.value));
  }
  for (const name of ["framing", "resolution", "frames"]) {
    const v = widgetValue(node, name);
    if (v !== undefined && v !== null) params.set(name, String(v));
  }
  const options = upstreamNode(node, "options"); // Open-Sora options carry the resolution bucket
  const bucket = options ? widgetValue(options, "resolution") : undefined;
  if (bucket) params.set("options.resolution", String(bucket));
  return params.toString();
}

async function refreshPlan(node) {
  const query = planQuery(node);
  if (query === node.__mcQuery) return;
  node.__mcQuery = query;
  if (!query) {
    // The canvas only redraws when something changes, and LoadImage's preview arrives after the
    // graph is drawn: ask for a few more redraws so the plan appears without a click.
    node.__mcPlan = null;
    node.__mcQuery = undefined;
    node.__mcRetries = (node.__mcRetries || 0) + 1;
    if (node.__mcRetries <= 20) setTimeout(() => node.setDirtyCanvas(true, true), 600);
    return;
  }
  node.__mcRetries = 0;
  try {
    const res = await api.fetchApi(`${PLAN_ROUTE}?${query}`);
    const body = await res.json();
    if (node.__mcQuery === query) node.__mcPlan = body;
  } catch (e) {
    node.__mcPlan = { error: String(e) };
  }
  node.setDirtyCanvas(true, true);
}

// The panel: frame, content box, sizes; its top edge at y0 - 6, as wide as the node.
function drawPanel(ctx, plan, width, y0) {
  ctx.save();
  ctx.fillStyle = "rgba(20,20,20,0.85)";
  ctx.fillRect(0, y0 - 6, width, PANEL_HEIGHT);
  ctx.font = "11px sans-serif";
  if (plan.error) {
    ctx.fillStyle = "#e66";
    ctx.fillText(plan.error.slice(0, 90), 10, y0 + 12);
    ctx.restore();
    return;
  }
  const [fw, fh] = [plan.frame.width, plan.frame.height];
  const scale = Math.min(110 / fw, (PANEL_HEIGHT - 16) / fh);
  const bw = fw * scale, bh = fh * scale;
  ctx.fillStyle = "#000";
  ctx.fillRect(10, y0, bw, bh);
  ctx.strokeStyle = "#888";
  ctx.strokeRect(10, y0, bw, bh);
  const c = plan.content;
  ctx.fillStyle = "#4a8";
  ctx.fillRect(10 + c.x * scale, y0 + c.y * scale, c.width * scale, c.height * scale);
  ctx.fillStyle = "#ccc";
  const tx = 20 + bw;
  ctx.fillText(`frame ${fw}x${fh} (${plan.mode})`, tx, y0 + 12);
  ctx.fillText(`content ${c.width}x${c.height} at ${c.x},${c.y}`, tx, y0 + 28);
  if (plan.frames) {
    ctx.fillStyle = plan.frames.valid ? "#8c8" : "#e66";
    const msg = plan.frames.valid
      ? `${plan.frames.requested} frames OK`
      : `${plan.frames.requested} frames invalid: try ${plan.frames.nearest.join(" or ")}`;
    ctx.fillText(msg, tx, y0 + 44);
  }
  ctx.restore();
}

function refreshSoon(node) {
  const now = performance.now();
  if (!node.__mcLast || now - node.__mcLast > 500) {
    node.__mcLast = now;
    refreshPlan(node);
  }
}

// Vue nodes: a <canvas> at the end of the node's body, so the node grows around it (a panel under
// the node's element would lie below its neighbours, which are later in the DOM).
function drawInDom(node) {
  const el = document.querySelector(`[data-testid="node-body-${node.id}"]`);
  let cv = el?.querySelector(":scope > canvas.mc-plan");
  if (!el || !node.__mcPlan || node.flags?.collapsed) return cv?.remove();
  if (!cv) {
    cv = document.createElement("canvas");
    cv.className = "mc-plan";
    cv.style.cssText = "display:block;margin:0 16px;pointer-events:none;border-radius:6px";
    el.appendChild(cv);
  }
  const width = Math.max(120, Math.round(el.clientWidth - 32));
  if (cv.width !== width) cv.width = width;
  cv.height = PANEL_HEIGHT;
  const ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  drawPanel(ctx, node.__mcPlan, width, 6);
}

function vueTick() {
  if (!window.LiteGraph?.vueNodesMode) {
    document.querySelectorAll("canvas.mc-plan").forEach((c) => c.remove());
    return;
  }
  for (const node of app.graph?.nodes ?? app.graph?._nodes ?? []) {
    if (node.__mcOverlay) {
      refreshSoon(node);
      drawInDom(node);
    }
  }
}

app.registerExtension({
  name: "motioncomic.extension",

  async setup() {
    setInterval(vueTick, 500);
  },

  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name === SAMPLER || nodeData.name === LETTERBOX) {
      nodeType.prototype.__mcOverlay = true;
      const onDrawForeground = nodeType.prototype.onDrawForeground;
      nodeType.prototype.onDrawForeground = function (ctx) {
        onDrawForeground?.apply(this, arguments);
        if (this.flags?.collapsed) return;
        refreshSoon(this);
        // Drawn just under the node: the frontend lays widgets (and the prompt text areas) out over
        // the whole node body, so a panel inside it would be painted over. Below, nothing is resized.
        if (this.__mcPlan) drawPanel(ctx, this.__mcPlan, this.size[0], this.size[1] + 14);
      };
    }
  },
});
