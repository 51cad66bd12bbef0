// Material for MkDocs calls mermaid.initialize() itself and draws each diagram in a shadow root
// whose CSS colours every HTML label <p> with the theme's text colour: a `style X fill:...,color:#000`
// line then cannot make its label dark, and on a light fill the label is unreadable in dark mode.
// Labels drawn as SVG text take the style's colour, and unstyled ones still follow the theme.
(function () {
  if (typeof mermaid === "undefined") return;
  var initialize = mermaid.initialize.bind(mermaid);
  mermaid.initialize = function (config) {
    var flowchart = Object.assign({}, (config && config.flowchart) || {}, { htmlLabels: false });
    return initialize(Object.assign({}, config, { htmlLabels: false, flowchart: flowchart }));
  };
})();
