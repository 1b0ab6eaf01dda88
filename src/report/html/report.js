// report.html behaviour: filter the matrix by status, show a screenshot full size, open the
// check a link points at. Everything is readable without it.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-filter]");
  function filter(status) {
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.filter === status ? "true" : "false");
    });
    document.querySelectorAll("#matrix tr.check").forEach(function (row) {
      row.hidden = status !== "all" && row.dataset.status !== status;
    });
    // A lane none of whose checks is shown loses its heading too.
    document.querySelectorAll("#matrix tbody.lane").forEach(function (lane) {
      lane.hidden = !lane.querySelector("tr.check:not([hidden])");
    });
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { filter(b.dataset.filter); });
  });

  var box = document.getElementById("lightbox");
  var big = box.querySelector("img");
  function closeBox() { box.hidden = true; big.removeAttribute("src"); }
  document.querySelectorAll("a.shot").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var thumb = link.querySelector("img");
      if (!thumb) { return; }
      event.preventDefault();
      big.src = thumb.src;
      big.alt = thumb.alt;
      box.hidden = false;
    });
  });
  box.addEventListener("click", closeBox);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !box.hidden) { closeBox(); }
  });

  function openLinked() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", openLinked);
  openLinked();
})();
