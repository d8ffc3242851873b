// The attending page's calendar (templates/rotations/attending_detail.html): each free
// week links to "?start=<Monday>#request-form", which works without JavaScript (the page
// reloads with the start filled in). With JavaScript a click fills the start in place,
// keeping whatever the student already typed, and htmx redraws the price summary.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-start]");
  var start = document.getElementById("id_start");
  if (!link || !start || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
    return;
  }
  event.preventDefault();
  start.value = link.dataset.start;
  start.dispatchEvent(new Event("change", { bubbles: true }));
  document.querySelectorAll("a[data-start][aria-current]").forEach(function (other) {
    other.removeAttribute("aria-current");
    other.closest("tr").classList.remove("week-chosen");
  });
  link.setAttribute("aria-current", "true");
  link.closest("tr").classList.add("week-chosen");
  start.focus();
  history.replaceState(null, "", link.href);
});
