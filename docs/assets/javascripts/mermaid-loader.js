// Readers never load mermaid: diagrams are pre-rendered SVG (verify/diagrams.py). A diagram without its
// SVG yet (a new or changed one, while editing in `mkdocs serve`) is left as <pre class="mermaid"> for
// Material to render; then mermaid (mermaid.min.js next to this file, ~3.5 MB) is loaded only when that
// diagram comes near the viewport, and not before the page has loaded. Material for MkDocs draws the diagrams itself: for each <pre class="mermaid"> it calls
// mermaid.initialize() once and mermaid.render(id, source), and if `mermaid` is undefined it fetches it
// from unpkg (a request leaving the site). This stub is that `mermaid` until the real one is needed:
// initialize() keeps the configuration, render() waits until the diagram is near the viewport, then
// loads the real script once, initializes it with the kept configuration and renders with it.
(function () {
  if (typeof window.mermaid !== "undefined") return;
  var src = new URL("mermaid.min.js", document.currentScript.src).href;
  var config = {};
  var real = null;
  var claimed = typeof WeakSet === "function" ? new WeakSet() : null;

  function pageLoaded() {
    return new Promise(function (resolve) {
      if (document.readyState === "complete") resolve();
      else window.addEventListener("load", function () { resolve(); }, { once: true });
    });
  }

  function load() {
    if (!real) {
      real = pageLoaded().then(function () {
        return new Promise(function (resolve, reject) {
          var script = document.createElement("script");
          script.src = src;
          script.onload = function () {
            var m = window.mermaid; // the UMD build sets globalThis.mermaid to the real library
            m.initialize(config);
            resolve(m);
          };
          script.onerror = function () { reject(new Error("could not load " + src)); };
          document.head.appendChild(script);
        });
      });
    }
    return real;
  }

  // The <pre class="mermaid"> Material is about to replace: the first unclaimed one with this source.
  function element(source) {
    var pres = document.querySelectorAll("pre.mermaid");
    for (var i = 0; i < pres.length; i++) {
      if (pres[i].textContent === source && !(claimed && claimed.has(pres[i]))) {
        if (claimed) claimed.add(pres[i]);
        return pres[i];
      }
    }
    return null;
  }

  function nearViewport(el) {
    return new Promise(function (resolve) {
      if (!el || typeof IntersectionObserver !== "function") return resolve();
      var observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) {
          observer.disconnect();
          resolve();
        }
      }, { rootMargin: "50% 0px" });
      observer.observe(el);
    });
  }

  window.mermaid = {
    lazy: true,
    initialize: function (c) { config = c || {}; },
    render: function (id, source) {
      return nearViewport(element(source)).then(load).then(function (m) { return m.render(id, source); });
    },
  };
})();
