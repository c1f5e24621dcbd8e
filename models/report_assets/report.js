/* callscan report: jump from evidence to the transcript line, play the call from there. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("callscan-data").textContent);
  var audio = document.getElementById("call-audio");
  var current = null;

  function mark(line) {
    if (current) current.classList.remove("current");
    current = line;
    if (line) line.classList.add("current");
  }

  function go(el) {
    var turn = el.getAttribute("data-turn");
    var t = parseFloat(el.getAttribute("data-t"));
    if (turn !== null) {
      var line = document.getElementById("t-" + turn);
      if (line && !line.contains(el)) line.scrollIntoView({ block: "center", behavior: "smooth" });
      mark(line);
    }
    if (audio && !isNaN(t)) {
      audio.currentTime = Math.max(0, t - 0.3);
      var p = audio.play();
      if (p && p.catch) p.catch(function () {});
    }
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-turn],[data-t]") : null;
    if (!el) return;
    if (el.tagName === "A") ev.preventDefault();
    go(el);
  });

  if (audio) {
    audio.addEventListener("timeupdate", function () {
      var now = audio.currentTime, hit = null;
      for (var i = 0; i < data.turns.length; i++) {
        var tr = data.turns[i];
        if (tr[1] !== null && tr[1] <= now && now < tr[2]) hit = tr[0];
      }
      if (hit !== null) mark(document.getElementById("t-" + hit));
    });
  }
  document.documentElement.setAttribute("data-ready", String(data.turns.length));
})();
