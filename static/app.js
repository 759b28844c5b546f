// Keel's only script besides htmx, so the Content-Security-Policy can forbid inline script:
// SLA countdowns keep ticking, a select marked data-autosubmit submits its form, and a form
// marked data-reset-on-success is cleared after a successful htmx request.
(function () {
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) e.target.form.requestSubmit();
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target.closest && e.target.closest("form[data-reset-on-success]");
    if (form && e.detail.successful) form.reset();
  });
})();

// SLA countdowns: one timer for the page, no requests.
(function () {
  function span(minutes) {
    if (minutes >= 48 * 60) return Math.floor(minutes / 1440) + " d " + Math.floor((minutes % 1440) / 60) + " h";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var left = Date.parse(el.getAttribute("datetime")) - now;
      var minutes = Math.floor(Math.abs(left) / 60000);
      el.textContent = left < 0 ? "overdue by " + span(minutes) : "due in " + span(minutes);
      el.classList.remove("ok", "amber", "red");
      el.classList.add(left < 0 ? "red" : left < 4 * 3600000 ? "amber" : "ok");
    });
  }
  tick();
  setInterval(tick, 30000);
})();

// A "tick all" box ticks or clears every box in its table's body, or, given a name
// (data-tick-all="email"), every box of that name on the page.
document.addEventListener('change', (e) => {
  const all = e.target.closest('[data-tick-all]');
  if (!all) return;
  const name = all.dataset.tickAll;
  const boxes = name
    ? document.querySelectorAll(`input[type=checkbox][name="${name}"]`)
    : all.closest('table').querySelectorAll('tbody input[type=checkbox]');
  for (const box of boxes) {
    box.checked = all.checked;
  }
});
