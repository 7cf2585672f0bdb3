/* Project → building → unit on the service forms, filled in place.
 * Progressive enhancement only: without this script the "更新选项" button re-renders the form
 * server-side. The page answers ?choices=1&project=<id>&building=<id> with JSON
 * {buildings: [{id, name}], units: [{id, label}]}. No dependencies, no CDN. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-unit-picker]");
  if (!form || !window.fetch || !window.JSON) { return; }
  var project = form.elements.namedItem("project");
  var building = form.elements.namedItem("building");
  var unit = form.elements.namedItem("unit");
  var url = form.getAttribute("data-choices-url");
  if (!project || !building || !unit || !url) { return; }
  var refresh = form.querySelector("[data-unit-refresh]");
  var refreshHint = form.querySelector("[data-unit-refresh-hint]");

  function showRefresh(show) {
    if (refresh) { refresh.hidden = !show; }
    if (refreshHint) { refreshHint.hidden = !show; }
  }

  function fill(select, items, text, placeholder) {
    var keep = select.value;
    while (select.options.length) { select.remove(0); }
    select.add(new Option(placeholder, ""));
    for (var i = 0; i < items.length; i++) {
      var value = String(items[i].id);
      select.add(new Option(items[i][text], value, false, value === keep));
    }
  }

  function placeholder(select, parentChosen) {
    return select.getAttribute(parentChosen ? "data-placeholder" : "data-placeholder-none") || "";
  }

  function load(changed) {
    var query = "?choices=1&project=" + encodeURIComponent(project.value) +
      "&building=" + encodeURIComponent(changed === "project" ? "" : building.value);
    form.setAttribute("aria-busy", "true");
    fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        if (changed === "project") {
          fill(building, data.buildings, "name", placeholder(building, project.value));
        }
        fill(unit, data.units, "label", placeholder(unit, building.value));
      })
      .catch(function () { showRefresh(true); })  /* fall back to the server round trip */
      .then(function () { form.removeAttribute("aria-busy"); });
  }

  showRefresh(false);
  if (project.tagName === "SELECT") {
    project.addEventListener("change", function () { load("project"); });
  }
  building.addEventListener("change", function () { load("building"); });
})();
