// Live refresh: pages listing revisions and regressions reload every minute while visible,
// unless the reader is partway down the page. Everything works without this script.
(function () {
  "use strict";
  var path = window.location.pathname;
  if (path !== "/" && path !== "/regressions" && path.indexOf("/labs") !== 0) { return; }
  window.setInterval(function () {
    if (document.visibilityState === "visible" && window.scrollY < 40) { window.location.reload(); }
  }, 60000);
})();
