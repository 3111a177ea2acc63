// Progressive enhancement only: every page works without this script.
// Keyboard shortcuts: "/" focuses Find patient; "n" opens New note on a chart.
document.addEventListener("keydown", function (e) {
  var t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT"))) {
    return;
  }
  if (e.key === "/") {
    var f = document.getElementById("find-q");
    if (f) { e.preventDefault(); f.focus(); }
  } else if (e.key === "n") {
    var n = document.querySelector("a[data-shortcut=new-note]");
    if (n) { e.preventDefault(); n.click(); }
  }
});

// The Template select applies at once (the "Use template" button does the
// same without script).
document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
  s.addEventListener("change", function () { s.form.submit(); });
});

// Drafts save themselves: every 30 seconds after a change, the editor posts
// itself as "Save draft" in the background. The first save of a new note
// creates the draft; the form then continues on the draft's own URL with
// its new version, exactly as after pressing Save draft.
document.querySelectorAll("form[data-autosave]").forEach(function (form) {
  var dirty = false, busy = false, submitting = false;
  var status = document.createElement("p");
  status.className = "muted";
  status.setAttribute("role", "status");
  form.appendChild(status);
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { submitting = true; });
  setInterval(function () {
    if (!dirty || busy || submitting) { return; }
    var data = new FormData(form);
    data.set("action", "draft");
    dirty = false;
    busy = true;
    fetch(form.action, { method: "POST", body: new URLSearchParams(data), credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok || !/\/notes\/[^/]+\/edit/.test(r.url)) { throw new Error("not saved"); }
        return r.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var v = doc.querySelector("input[name=version]");
          var path = new URL(r.url).pathname;
          if (!v || submitting) { return; }
          form.action = path;
          form.querySelector("input[name=version]").value = v.value;
          history.replaceState(null, "", path);
          status.textContent = "Draft saved at " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ".";
        });
      })
      .catch(function () { dirty = true; status.textContent = "The draft could not be saved automatically; use Save draft."; })
      .finally(function () { busy = false; });
  }, 30000);
});
