// Renders one mermaid diagram (mermaid is loaded and initialized in the page) and makes the SVG a
// static, accessible picture: role="img", a <title> (its accessible name: the kind of diagram and its
// nodes or participants) and a <desc> (its edges or messages in order), no layout-only attributes,
// its natural size. Called by verify/diagrams.py with [id, source]; returns the SVG's markup.
async ([id, source]) => {
  const {svg: text} = await mermaid.render(id, source);
  const host = document.createElement("div");
  host.innerHTML = text;
  document.body.appendChild(host);
  const svg = host.querySelector("svg");
  // a label's text, its lines joined by spaces
  const words = (el) => {
    const rows = [...el.querySelectorAll("tspan.text-outer-tspan, tspan.row")];
    if (!rows.length) return el.textContent.replace(/\s+/g, " ").trim();
    return rows.map((t) => t.textContent.trim()).filter(Boolean).join(" ");
  };
  const kind = svg.getAttribute("aria-roledescription") || "";
  let name = "", desc = [];
  const given = svg.querySelector(":scope > title");
  if (kind.startsWith("flowchart")) {
    const found = [];  // [id, label, order of appearance in the source]
    for (const g of svg.querySelectorAll("g.node")) {
      const m = g.id.match(/-flowchart-(.+)-(\d+)$/);
      if (m) found.push([m[1], words(g.querySelector(".label") || g), +m[2]]);
    }
    const nodes = new Map(found.sort((a, b) => a[2] - b[2]).map(([k, label]) => [k, label]));
    const clusters = [...svg.querySelectorAll("g.cluster")].map((g) => words(g.querySelector(".cluster-label") || g));
    name = "Flowchart" + (clusters.length ? " (" + clusters.join(", ") + ")" : "") + ": "
      + [...nodes.values()].filter(Boolean).join(", ");
    for (const p of svg.querySelectorAll("path[data-id^='L_']")) {
      const id = p.getAttribute("data-id").replace(/^L_/, "").replace(/_\d+$/, "");
      let from = null, to = null;
      for (const k of nodes.keys()) if (id.startsWith(k + "_") && nodes.has(id.slice(k.length + 1))) { from = k; to = id.slice(k.length + 1); }
      if (!from) continue;
      const label = svg.querySelector(`.edgeLabel .label[data-id='${p.getAttribute("data-id")}']`);
      const said = label ? words(label) : "";
      desc.push(`${nodes.get(from)} → ${nodes.get(to)}${said ? " (" + said + ")" : ""}`);
    }
  } else if (kind === "sequence") {
    const actors = [];
    for (const r of svg.querySelectorAll("rect.actor-top")) {
      const t = r.parentElement.querySelector("text");
      actors.push({x: +r.getAttribute("x") + +r.getAttribute("width") / 2, name: t ? words(t) : ""});
    }
    actors.sort((a, b) => a.x - b.x);
    const who = (x) => actors.reduce((a, b) => Math.abs(b.x - x) < Math.abs(a.x - x) ? b : a).name;
    name = "Sequence diagram: " + actors.map((a) => a.name).join(", ");
    const y = (t) => t.getBBox().y;
    for (const t of [...svg.querySelectorAll("text.messageText, text.noteText, text.loopText")].sort((a, b) => y(a) - y(b))) {
      if (t.classList.contains("messageText")) {
        let line = t.nextElementSibling;
        while (line && !/messageLine/.test(line.getAttribute("class") || "")) line = line.nextElementSibling;
        desc.push(line ? `${who(+line.getAttribute("x1"))} → ${who(+line.getAttribute("x2"))}: ${words(t)}` : words(t));
      } else desc.push((t.classList.contains("noteText") ? "Note: " : "Loop: ") + words(t));
    }
  } else {
    const title = svg.querySelector(".chart-title text");
    name = "Chart: " + (title ? words(title) : kind);
    const list = (key) => {  // x-axis [a, "b c"] / bar [1, 2]: the items of the source's line
      const m = source.match(new RegExp("^\\s*" + key + "\\s*\\[(.*)\\]", "m"));
      return m ? m[1].split(",").map((v) => v.trim().replace(/^"(.*)"$/, "$1")) : [];
    };
    const labels = list("x-axis"), values = list("bar");
    desc = labels.map((l, i) => values[i] !== undefined ? `${l}: ${values[i]}` : l);
  }
  if (given && given.textContent.trim()) name = given.textContent.trim();
  for (const el of svg.querySelectorAll(":scope > title, :scope > desc")) el.remove();
  const t = document.createElementNS("http://www.w3.org/2000/svg", "title");
  t.id = id + "-title"; t.textContent = name;
  const d = document.createElementNS("http://www.w3.org/2000/svg", "desc");
  d.id = id + "-desc"; d.textContent = desc.join("; ");
  svg.prepend(t, d);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", t.id);
  if (desc.length) svg.setAttribute("aria-describedby", d.id); else d.remove();
  svg.removeAttribute("aria-roledescription");
  for (const el of svg.querySelectorAll("[data-points]")) el.removeAttribute("data-points");
  // Natural size; the page's CSS (extra.css, .diagram) scales it down to the column, not too far
  const [, , w, h] = svg.getAttribute("viewBox").split(/\s+/).map(Number);
  svg.setAttribute("width", Math.ceil(w)); svg.setAttribute("height", Math.ceil(h));
  svg.setAttribute("style", `--diagram-width: ${Math.ceil(w)}px`);
  const out = svg.outerHTML;
  host.remove();
  return out;
}