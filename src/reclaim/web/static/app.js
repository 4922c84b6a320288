// Keyboard shortcuts for the review queue and the match page. Nothing here touches media.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target.tagName;
    return t === "INPUT" || t === "TEXTAREA" || t === "SELECT";
  }
  var items = Array.prototype.slice.call(document.querySelectorAll(".queue .item"));
  var at = items.length ? 0 : -1;
  function select(i) {
    if (at >= 0) items[at].classList.remove("selected");
    at = Math.max(0, Math.min(items.length - 1, i));
    items[at].classList.add("selected");
    items[at].scrollIntoView({ block: "nearest" });
  }
  if (at === 0) select(0);
  function decide(action) {
    var form = document.getElementById("decision-form");
    if (!form) return;
    var reason = document.getElementById("decision-reason");
    if (!reason.value.trim()) { reason.focus(); reason.setAttribute("data-action", action); return; }
    document.getElementById(action).click();
  }
  var reasonBox = document.getElementById("decision-reason");
  if (reasonBox) {
    reasonBox.addEventListener("keydown", function (e) {
      var action = reasonBox.getAttribute("data-action");
      if (e.key === "Enter" && action && reasonBox.value.trim()) { e.preventDefault(); document.getElementById(action).click(); }
    });
  }
  document.addEventListener("keydown", function (e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j" && items.length) select(at + 1);
    else if (e.key === "k" && items.length) select(at - 1);
    else if (e.key === "Enter" && at >= 0) window.location = items[at].getAttribute("data-href");
    else if (e.key === "c") decide("confirm");
    else if (e.key === "x") decide("reject");
    else if (e.key === "e") decide("escalate");
    else if (e.key === "v") { var r = document.getElementById("reveal-reason"); if (r) { e.preventDefault(); r.focus(); } }
    else if (e.key === "?") alert("You have done important work. It is fine to take a break.");
    else return;
  });
})();
