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

// Keyboard-first lists: on a page with rows marked data-key-row, j and k move the current
// row (marked aria-current), and a key a row's element names in data-key acts on it: a
// button or link is clicked, a <details> opened. Keys typed into a field are left alone.
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest('input, select, textarea, [contenteditable]')) return;
  const rows = [...document.querySelectorAll('[data-key-row]')];
  if (!rows.length) return;
  const current = rows.findIndex((r) => r.getAttribute('aria-current') === 'true');
  const move = { j: 1, k: -1 }[e.key];
  if (move) {
    const next = rows[Math.min(rows.length - 1, Math.max(0, current + move))];
    rows.forEach((r) => r.removeAttribute('aria-current'));
    next.setAttribute('aria-current', 'true');
    next.scrollIntoView({ block: 'nearest' });
    e.preventDefault();
    return;
  }
  const row = rows[current];
  const target = row && row.querySelector(`[data-key="${e.key}"]`);
  if (!target) return;
  e.preventDefault();
  if (target.tagName === 'DETAILS') {
    target.open = true;
    target.querySelector('summary').focus();
  } else {
    target.click();
  }
});

// The browser's time zone, for the server to show times in when the user has not chosen one.
(function () {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && !document.cookie.split('; ').includes('tz=' + zone)) {
    document.cookie = 'tz=' + zone + '; path=/; max-age=31536000; samesite=lax';
  }
})();

// Repeated fields: a button marked data-add-from="#template" appends a copy of that
// <template> to data-add-to; one marked data-remove-closest="selector" removes its closest
// match (the playbook builder's steps).
document.addEventListener('click', (e) => {
  const add = e.target.closest('[data-add-from]');
  if (add) {
    const copy = document.querySelector(add.dataset.addFrom).content.cloneNode(true);
    const into = document.querySelector(add.dataset.addTo);
    into.append(copy);
    into.lastElementChild.querySelector('input, select, textarea')?.focus();
  }
  const remove = e.target.closest('[data-remove-closest]');
  if (remove) remove.closest(remove.dataset.removeClosest).remove();
});
