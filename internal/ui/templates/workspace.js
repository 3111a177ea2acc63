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
