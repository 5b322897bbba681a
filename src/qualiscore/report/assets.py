"""The page's own CSS and JavaScript, inlined so that the report needs no network.

``PAGE_SCRIPT`` unpacks the scorecards' explanations into the subject list, filters the
list as one types (or as ``?find=`` says) and opens the scorecard a ``#sc-N`` link names.
``ERROR_RECORDER`` and ``PAGE_SCRIPT`` leave attributes on <body> (JavaScript errors,
charts drawn, explanations unpacked, page height) that the browser test reads.
"""

from __future__ import annotations

FONT_STACK = ('-apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Microsoft YaHei", '
              '"Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif')
MONO_STACK = ('ui-monospace, SFMono-Regular, Menlo, Consolas, "Noto Sans Mono CJK SC", '
              '"WenQuanYi Micro Hei Mono", monospace')

CSS = """
:root{--bg:#f4f6fb;--card:#fff;--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#2563eb;
--ok:#16a34a;--warn:#f59e0b;--bad:#dc2626}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font-family:@FONT@;font-size:15px;line-height:1.6}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre,.mono{font-family:@MONO@}
code{font-size:.88em;background:#f1f5f9;border-radius:4px;padding:0 4px}
.hero{background:linear-gradient(135deg,#0f2a5c 0%,#1d4ed8 60%,#3b82f6 100%);color:#fff;
padding:32px 0 84px}
.wrap{max-width:1240px;margin:0 auto;padding:0 clamp(12px,3vw,32px)}
.hero .eyebrow{opacity:.8;font-size:13px;letter-spacing:.08em;text-transform:uppercase}
.hero h1{margin:6px 0 6px;font-size:clamp(22px,3vw,32px);line-height:1.25;font-weight:700}
.hero .sub{opacity:.92;font-size:15px}
.hero .sub span{display:inline-block;margin-right:18px}
main.wrap{margin-top:-64px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:14px;margin-bottom:18px}
.card{background:var(--card);border-radius:14px;padding:14px 18px;box-shadow:0 1px 2px rgba(15,23,42,.06),
0 6px 20px rgba(15,23,42,.06);border-top:4px solid var(--accent)}
.card .label{color:var(--muted);font-size:13px}
.card .num{font-size:28px;font-weight:700;font-variant-numeric:tabular-nums;line-height:1.25}
.card .small{color:var(--muted);font-size:12.5px}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 8px;margin:0 0 18px}
nav.toc a{background:var(--card);border:1px solid var(--line);border-radius:999px;padding:3px 12px;font-size:13px;
color:var(--text)}
nav.toc a:hover{border-color:var(--accent);color:var(--accent);text-decoration:none}
section{background:var(--card);border-radius:16px;padding:22px clamp(14px,2.4vw,28px);margin:0 0 18px;
box-shadow:0 1px 2px rgba(15,23,42,.05),0 6px 24px rgba(15,23,42,.05)}
section h2{margin:0 0 4px;font-size:20px;line-height:1.35}
section h3{margin:18px 0 6px;font-size:16px}
.lead{color:var(--muted);margin:0 0 14px;font-size:14px}
.grid2{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px;align-items:start}
.grid2>*{min-width:0}
.grid2.wide{grid-template-columns:minmax(0,3fr) minmax(240px,1fr)}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,330px),1fr));gap:0 28px}
.facts dl{margin:0}
.facts div.f{display:grid;grid-template-columns:140px 1fr;gap:10px;padding:6px 0;border-bottom:1px solid var(--line)}
.facts dt{color:var(--muted);font-size:13.5px}
.facts dd{margin:0;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;margin:6px 0 4px}
table{border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums}
th{background:#f8fafc;color:#374151;font-weight:600;text-align:left;border-bottom:1px solid var(--line);
padding:7px 10px;white-space:nowrap}
td{padding:6px 10px;border-bottom:1px solid #f0f2f5;vertical-align:top}
tr:hover td{background:#fafbff}
td.n,th.n{text-align:right;white-space:nowrap}
td code,td .subject,td.nw{white-space:nowrap}
tr.dim td{background:#f8fafc;font-weight:600}
.badge{display:inline-block;padding:0 9px;border-radius:999px;color:#fff;font-size:12.5px;font-weight:600;
line-height:20px;white-space:nowrap}
.pill{display:inline-block;padding:0 8px;border-radius:999px;font-size:12.5px;line-height:20px;white-space:nowrap;
background:#eef2ff;color:#3730a3}
.ok{color:var(--ok)}.bad{color:var(--bad)}.muted{color:var(--muted)}
.bar{position:relative;height:8px;background:#eef2f7;border-radius:6px;min-width:80px;overflow:hidden}
.bar>i{position:absolute;left:0;top:0;bottom:0;border-radius:6px}
.note{background:#fffbeb;border:1px solid #fde68a;color:#78350f;border-radius:10px;padding:10px 14px;
margin:10px 0;font-size:14px}
.alert{background:#fef2f2;border:1px solid #fecaca;color:#7f1d1d;border-radius:10px;padding:10px 14px;margin:10px 0}
.good{background:#f0fdf4;border:1px solid #bbf7d0;color:#14532d;border-radius:10px;padding:10px 14px;margin:10px 0}
.chart{min-height:120px}
[hidden]{display:none!important}
.finder{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:0 0 8px}
.finder input[type=search]{flex:1 1 280px;font:inherit;padding:6px 12px;border:1px solid var(--line);border-radius:8px}
.finder label{font-size:14px;white-space:nowrap}
.unsure{display:inline-block;padding:0 8px;border-radius:999px;font-size:12.5px;line-height:20px;white-space:nowrap;
background:#fef3c7;color:#92400e;border:1px dashed #d97706}
.evidence code{display:inline-block;margin:1px 2px}
details.expl{border:1px solid var(--line);border-radius:10px;margin:8px 0;background:#fff}
details.expl>summary{cursor:pointer;padding:8px 14px;list-style:none;display:flex;gap:10px;align-items:center;
flex-wrap:wrap}
details.expl>summary::-webkit-details-marker{display:none}
details.expl>summary:before{content:"▸";color:var(--muted);transition:transform .15s}
details.expl[open]>summary:before{transform:rotate(90deg)}
details.expl:target,details.expl.hit{box-shadow:0 0 0 3px #93c5fd}
details.expl pre{margin:0;border-radius:0 0 10px 10px}
details.expl .ind{padding:0 14px 8px}
.range{position:relative;height:14px;min-width:140px;background:#f1f5f9;border-radius:7px}
.range i{position:absolute;top:0;bottom:0}
.range .ci{background:#fcd34d;border-radius:7px}
.range .t{width:2px;margin-left:-1px;background:#111827}
.range .v{width:10px;height:10px;top:2px;margin-left:-5px;border-radius:50%;background:#1d4ed8}
pre{background:#0f172a;color:#e2e8f0;padding:14px 16px;overflow-x:auto;font-size:12.5px;line-height:1.55}
.subject{font-weight:600}
footer{color:var(--muted);font-size:13px;padding:8px 0 40px}
@media (max-width:900px){.grid2,.grid2.wide{grid-template-columns:minmax(0,1fr)}}
@media (max-width:640px){.facts div.f{grid-template-columns:1fr;gap:0}.hero{padding-bottom:76px}}
@media print{.hero{background:#1d4ed8;-webkit-print-color-adjust:exact;print-color-adjust:exact}
section{box-shadow:none;border:1px solid var(--line);break-inside:avoid}nav.toc{display:none}}
""".replace("@FONT@", FONT_STACK).replace("@MONO@", MONO_STACK)

ERROR_RECORDER = """
(function () {
  var errors = [];
  function flush() {
    if (document.body) { document.body.setAttribute("data-js-errors", JSON.stringify(errors)); }
  }
  function record(message) { errors.push(String(message).slice(0, 500)); flush(); }
  window.__qualiscoreErrors = errors;
  window.addEventListener("error", function (ev) {
    var t = ev.target;
    if (t && t !== window && (t.src || t.href)) { record("resource failed: " + (t.src || t.href)); return; }
    record((ev.message || "error") + (ev.filename ? " at " + ev.filename + ":" + ev.lineno : ""));
  }, true);
  window.addEventListener("unhandledrejection", function (ev) {
    var r = ev.reason; record("unhandled rejection: " + (r && r.message ? r.message : r));
  });
  var original = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", flush);
})();
"""

PAGE_SCRIPT = """
(function () {
  function reveal() {
    var id = location.hash ? decodeURIComponent(location.hash.slice(1)) : "";
    var el = id && document.getElementById(id);
    if (!el) { return; }
    el.hidden = false;
    var d = el.tagName === "DETAILS" ? el : el.closest("details");
    while (d) { d.open = true; d = d.parentElement ? d.parentElement.closest("details") : null; }
    el.classList.add("hit");
    el.scrollIntoView({block: "start"});
  }
  function find() {
    var box = document.getElementById("subject-filter"), only = document.getElementById("subject-unsure");
    var items = document.querySelectorAll("#subject-list > details");
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
    items.forEach(function (d) {
      var line = d.firstElementChild, text = line.textContent.toLowerCase();
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; }) &&
        !(only && only.checked && !line.querySelector(".unsure"));
      d.hidden = !hit;
      if (hit) { shown += 1; }
    });
    var counter = document.getElementById("subject-count");  // its data-template is in the page's language
    counter.textContent = (counter.getAttribute("data-template") || "{shown} of {total}")
      .replace("{shown}", String(shown)).replace("{total}", String(items.length));
  }
  document.addEventListener("input", function (ev) {
    if (ev.target && /^subject-(filter|unsure)$/.test(ev.target.id)) { find(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    // report.html?find=TEXT opens the list filtered; &unsure, to the grades that may change
    var asked = new URLSearchParams(location.search), box = document.getElementById("subject-filter");
    var only = document.getElementById("subject-unsure");
    if (!box) { return; }
    box.value = asked.get("find") || "";
    if (only) { only.checked = asked.has("unsure"); }
    find();
  });
  function unpack() {  // the explanations, gzipped JSON in base64 (html._packed), into their <pre>
    var data = document.getElementById("explanations-data");
    if (!data) { return; }
    function done(state) { document.body.setAttribute("data-explanations", state); }
    var pres = document.querySelectorAll("#subject-list pre");
    if (!window.DecompressionStream) {
      pres.forEach(function (p) {
        p.textContent = document.getElementById("subject-list").getAttribute("data-unsupported");  // in the page's language
      });
      done("unsupported");
      return;
    }
    var bytes = Uint8Array.from(atob(data.textContent), function (c) { return c.charCodeAt(0); });
    new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).json().then(
      function (trees) {
        Object.keys(trees).forEach(function (id) {
          var d = document.getElementById(id);
          if (!d) { return; }
          d.querySelector("pre").textContent = trees[id].tree;
          d.querySelector(".ind").innerHTML = trees[id].table;  // markup made and escaped by html.py
        });
        done("unpacked");
      },
      function (e) { console.error("explanations not unpacked: " + e); done("failed"); });
  }
  document.addEventListener("DOMContentLoaded", unpack);
  window.addEventListener("hashchange", reveal);
  document.addEventListener("DOMContentLoaded", reveal);
  function count() {
    var plots = document.querySelectorAll(".js-plotly-plot");
    var drawn = 0;
    plots.forEach(function (p) { if (p.querySelector(".main-svg")) { drawn += 1; } });
    document.body.setAttribute("data-charts-rendered", String(drawn));
    document.body.setAttribute("data-page-height", String(document.documentElement.scrollHeight));
  }
  window.addEventListener("load", function () { count(); setTimeout(count, 500); });
})();
"""
