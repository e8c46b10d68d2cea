// The static site's search (veedor publish --static): no server to ask, so the units' names
// come in search-index.js and are searched here, ignoring accents and case, forgiving typos.
// Without JavaScript the page still lists the states to browse down from.
(function () {
  "use strict";
  var units = window.VEEDOR_UNITS || [];
  var form = document.getElementById("static-search");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var out = document.getElementById("static-results");
  var nothing = document.getElementById("static-nothing");
  var base = form.getAttribute("data-base");
  function plain(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }
  function pairs(text) {
    var out = {};
    for (var i = 0; i < text.length - 1; i++) { out[text.slice(i, i + 2)] = true; }
    return out;
  }
  function dice(a, b) {
    var pa = pairs(a), pb = pairs(b), n = 0, na = 0, nb = 0, k;
    for (k in pa) { na++; if (pb[k]) { n++; } }
    for (k in pb) { nb++; }
    return na + nb ? 2 * n / (na + nb) : 0;
  }
  var index = units.map(function (u) { return [u[0], u[1], plain(u[1] || "")]; });
  function link(href, text, code) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = base + href;
    a.textContent = text;
    li.appendChild(a);
    li.appendChild(document.createTextNode(" " + code));
    return li;
  }
  function search(q) {
    out.textContent = "";
    nothing.hidden = true;
    var typed = q.trim();
    if (!typed) { return; }
    var code = typed.replace(/ /g, ".");
    var m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(code);
    var found = [];
    if (m) {
      if (m[2]) { found.push(["m/" + m[1] + "/" + parseInt(m[2], 10) + ".html", "Mesa " + m[1] + "." + m[2], ""]); }
      index.forEach(function (u) { if (u[0] === m[1]) { found.push(["u/" + u[0] + ".html", u[1] || u[0], u[0]]); } });
    } else if (typed.length >= 3) {
      var words = plain(typed).split(" ");
      var hits = index.filter(function (u) {
        return words.every(function (w) { return u[2].indexOf(w) >= 0; });
      });
      if (!hits.length) {
        var whole = plain(typed);
        hits = index.map(function (u) { return [dice(whole, u[2]), u]; })
          .filter(function (s) { return s[0] >= 0.5; })
          .sort(function (a, b) { return b[0] - a[0]; })
          .map(function (s) { return s[1]; });
      }
      hits.slice(0, 20).forEach(function (u) { found.push(["u/" + u[0] + ".html", u[1] || u[0], u[0]]); });
    }
    found.forEach(function (f) { out.appendChild(link(f[0], f[1], f[2])); });
    nothing.hidden = found.length > 0;
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); search(input.value); });
  var asked = new URLSearchParams(window.location.search).get("q");
  if (asked) { input.value = asked; search(asked); }
})();
