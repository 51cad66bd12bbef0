// Material's search overlay is a role="dialog" without an accessible name (axe: aria-dialog-name).
// The header survives instant navigation, so naming it once is enough.
(function () {
  var dialog = document.querySelector('.md-search[role="dialog"]');
  if (dialog && !dialog.hasAttribute("aria-label")) dialog.setAttribute("aria-label", "Search");
})();
